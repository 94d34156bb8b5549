/**
 * Where a restore writes: a service path or `--target` that is a symbolic link is restored
 * through it (the link stays a link), and relative targets such as `.`, `..` or `a/../b` are
 * the clean absolute directory they name.
 */
import assert from "node:assert/strict";
import { assertOk, packrat, type Setup, setup, snapshotTree, tempDir } from "../helpers.ts";
import { leftovers } from "../restore/support.ts";

async function backedUp(dir: string, path: string): Promise<Setup> {
  await Deno.mkdir(`${path}/sub`, { recursive: true });
  await Deno.writeTextFile(`${path}/a.txt`, "A1");
  await Deno.writeTextFile(`${path}/sub/b.txt`, "B1");
  const s = await setup(dir, { svc: { path } });
  assertOk(await s.run(["backup", "svc"]));
  return s;
}

async function scribble(path: string): Promise<void> {
  await Deno.writeTextFile(`${path}/a.txt`, "A2");
  await Deno.writeTextFile(`${path}/new.txt`, "new");
}

Deno.test("a service path that is a symlink: restored into the real directory, the link stays", async () => {
  await using dir = await tempDir();
  const real = `${dir.path}/disk/real`;
  const link = `${dir.path}/live`;
  await Deno.mkdir(real, { recursive: true });
  await Deno.symlink(real, link);
  const s = await backedUp(dir.path, link);
  const backedUpTree = await snapshotTree(real);

  for (const include of [[], ["--include", "**"]]) {
    await scribble(real);
    const result = assertOk(
      await s.run(["restore", "svc", "--backup", "latest", "--yes", ...include]),
    );
    assert.match(result.stdout, new RegExp(`into ${real} `));
    assert.ok((await Deno.lstat(link)).isSymlink, "the service path is still a link");
    assert.equal(await Deno.readLink(link), real);
    assert.equal(await Deno.readTextFile(`${real}/a.txt`), "A1");
    if (include.length === 0) assert.deepEqual(await snapshotTree(real), backedUpTree);
    assert.deepEqual(leftovers(dir.path), []);
  }
});

Deno.test("--target that is a symlink to a directory restores into that directory", async () => {
  await using dir = await tempDir();
  const s = await backedUp(dir.path, `${dir.path}/data`);
  const real = `${dir.path}/real`;
  await Deno.mkdir(real);
  await Deno.writeTextFile(`${real}/old.txt`, "old");
  await Deno.symlink("real", `${dir.path}/link`);
  const result = assertOk(
    await s.run(["restore", "svc", "--backup", "latest", "--yes", "--target", `${dir.path}/link`]),
  );
  assert.match(result.stdout, new RegExp(`into ${real} `));
  assert.ok((await Deno.lstat(`${dir.path}/link`)).isSymlink);
  assert.deepEqual(await snapshotTree(real), await snapshotTree(`${dir.path}/data`));
  assert.deepEqual(leftovers(dir.path), []);

  // A dangling link is an error that says so, and changes nothing.
  await Deno.symlink("missing", `${dir.path}/dangling`);
  const dangling = await s.run(
    ["restore", "svc", "--backup", "latest", "--yes", "--target", `${dir.path}/dangling`],
  );
  assert.equal(dangling.code, 1, dangling.stderr);
  assert.match(dangling.stderr, /dangling is a symbolic link to missing, which does not exist/);
  await assert.rejects(Deno.lstat(`${dir.path}/missing`), Deno.errors.NotFound);
});

Deno.test("--target . and .. and a/../b name the clean absolute directory", async () => {
  await using dir = await tempDir();
  const s = await backedUp(dir.path, `${dir.path}/data`);
  const expected = await snapshotTree(`${dir.path}/data`);
  const work = `${dir.path}/work`;
  await Deno.mkdir(`${work}/inner`, { recursive: true });
  const restore = (target: string, cwd: string) =>
    packrat(
      ["--config", s.config, "restore", "svc", "--backup", "latest", "--yes", "--target", target],
      { cwd },
    );

  // The working directory itself.
  await Deno.writeTextFile(`${work}/inner/stale.txt`, "stale");
  let result = assertOk(await restore(".", `${work}/inner`));
  assert.match(result.stdout, new RegExp(`into ${work}/inner `));
  assert.deepEqual(await snapshotTree(`${work}/inner`), expected);

  // Its parent: the working directory is replaced too, as one of the parent's entries.
  result = assertOk(await restore("..", `${work}/inner`));
  assert.match(result.stdout, new RegExp(`into ${work} `));
  assert.deepEqual(await snapshotTree(work), expected);

  // A path through a directory that does not exist: nothing is created on the way.
  result = assertOk(await restore("nowhere/../fresh/", work));
  assert.match(result.stdout, new RegExp(`into ${work}/fresh `));
  assert.deepEqual(await snapshotTree(`${work}/fresh`), expected);
  await assert.rejects(Deno.lstat(`${work}/nowhere`), Deno.errors.NotFound);
  assert.deepEqual(leftovers(dir.path), []);
});
