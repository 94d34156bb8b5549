/**
 * `--include`: a matched directory brings its whole subtree, hard links to unselected files
 * are skipped with a warning, parents get their archive metadata, and patterns that are bad or
 * match nothing are usage errors that change nothing.
 */
import assert from "node:assert/strict";
import { assertOk, type Setup, setup, snapshotTree, tempDir } from "../helpers.ts";
import { leftovers } from "../restore/support.ts";

const T0 = Date.UTC(2022, 0, 2, 3, 4, 5, 678);

/** data/: top.txt, hard-a, sub/{x.txt, hard-c → hard-a, deep/{y.txt}}, with set modes, times, owners. */
async function backedUp(dir: string): Promise<{ s: Setup; data: string }> {
  const data = `${dir}/data`;
  await Deno.mkdir(`${data}/sub/deep`, { recursive: true });
  await Deno.writeTextFile(`${data}/top.txt`, "top");
  await Deno.writeTextFile(`${data}/hard-a`, "shared");
  await Deno.writeTextFile(`${data}/sub/x.txt`, "x");
  await Deno.link(`${data}/hard-a`, `${data}/sub/hard-c`);
  await Deno.writeTextFile(`${data}/sub/deep/y.txt`, "y");
  await Deno.chmod(`${data}/sub`, 0o750);
  await Deno.chmod(`${data}/sub/deep`, 0o705);
  await Deno.chown(`${data}/sub`, 1234, 2345);
  await Deno.chown(`${data}/sub/deep`, 3456, 4567);
  for (const [i, path] of ["sub/deep/y.txt", "sub/deep", "sub/x.txt", "sub", "."].entries()) {
    await Deno.utime(`${data}/${path}`, new Date(T0 + i * 1000), new Date(T0 + i * 1000));
  }
  const s = await setup(dir, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  return { s, data };
}

function restore(s: Setup, ...args: string[]) {
  return s.run(["restore", "svc", "--backup", "latest", "--yes", ...args]);
}

for (const pattern of ["sub", "sub/", "sub/**"]) {
  Deno.test(`--include ${pattern} restores the whole subtree`, async () => {
    await using dir = await tempDir();
    const { s, data } = await backedUp(dir.path);
    const source = await snapshotTree(data);
    await Deno.writeTextFile(`${data}/sub/deep/y.txt`, "changed");
    await Deno.writeTextFile(`${data}/top.txt`, "live top");
    const result = assertOk(await restore(s, "--include", pattern, "--include", "hard-a"));
    assert.doesNotMatch(result.stderr, /warning/);
    assert.equal(await Deno.readTextFile(`${data}/sub/deep/y.txt`), "y");
    assert.equal(await Deno.readTextFile(`${data}/top.txt`), "live top", "not selected");
    const restored = await snapshotTree(data);
    for (const path of ["sub", "sub/x.txt", "sub/deep", "sub/deep/y.txt"]) {
      assert.deepEqual(restored.get(path), source.get(path), path);
    }
    assert.equal(
      (await Deno.stat(`${data}/sub/hard-c`)).ino,
      (await Deno.stat(`${data}/hard-a`)).ino,
    );
    assert.deepEqual(leftovers(dir.path), []);
  });
}

Deno.test("--include of a hard link whose file is not selected skips it with a warning", async () => {
  await using dir = await tempDir();
  const { s } = await backedUp(dir.path);
  const target = `${dir.path}/restored`;
  const result = assertOk(await restore(s, "--target", target, "--include", "sub/**"));
  assert.match(
    result.stderr,
    /warning: skipped sub\/hard-c: it is a hard link to hard-a, which --include did not select \(add --include 'hard-a'/,
  );
  assert.equal(await Deno.readTextFile(`${target}/sub/x.txt`), "x");
  await assert.rejects(Deno.lstat(`${target}/sub/hard-c`), Deno.errors.NotFound);
  await assert.rejects(Deno.lstat(`${target}/hard-a`), Deno.errors.NotFound);
});

Deno.test("--include: parents it creates get the archive's mode, owner and time", async () => {
  await using dir = await tempDir();
  const { s, data } = await backedUp(dir.path);
  const source = await Promise.all(
    ["sub", "sub/deep", "."].map((p) => Deno.stat(`${data}/${p}`)),
  );
  const check = async (root: string, withRoot: boolean) => {
    assert.equal(await Deno.readTextFile(`${root}/sub/deep/y.txt`), "y");
    const paths = withRoot ? ["sub", "sub/deep", "."] : ["sub", "sub/deep"];
    for (const [i, path] of paths.entries()) {
      const got = await Deno.stat(`${root}/${path}`);
      const want = source[i];
      assert.equal(got.mode! & 0o7777, want.mode! & 0o7777, `${path} mode`);
      assert.equal(got.uid, want.uid, `${path} owner`);
      assert.equal(got.gid, want.gid, `${path} group`);
      assert.equal(got.mtime!.getTime(), want.mtime!.getTime(), `${path} mtime`);
    }
    await assert.rejects(Deno.lstat(`${root}/sub/x.txt`), Deno.errors.NotFound);
  };

  // Into a new directory: it is created with the archive root's metadata too.
  const fresh = `${dir.path}/fresh`;
  assertOk(await restore(s, "--target", fresh, "--include", "sub/deep/y.txt"));
  await check(fresh, true);

  // Into an existing directory without sub/: only what is created gets archive metadata.
  const existing = `${dir.path}/existing`;
  await Deno.mkdir(existing, { mode: 0o711 });
  await Deno.chmod(existing, 0o711);
  await Deno.writeTextFile(`${existing}/other`, "other");
  assertOk(await restore(s, "--target", existing, "--include", "sub/deep/y.txt"));
  await check(existing, false);
  assert.equal(
    (await Deno.stat(existing)).mode! & 0o7777,
    0o711,
    "the existing root keeps its mode",
  );
  assert.equal(await Deno.readTextFile(`${existing}/other`), "other");
  assert.deepEqual(leftovers(dir.path), []);
});

Deno.test("--include matching nothing is a usage error naming the patterns; nothing changes", async () => {
  await using dir = await tempDir();
  const { s, data } = await backedUp(dir.path);
  await Deno.writeTextFile(`${data}/top.txt`, "live top");
  const before = await snapshotTree(data);
  const beforeRoot = await Deno.stat(data);
  const result = await restore(s, "--include", "nope/**", "--include", "*.md");
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /nothing in backup \S+ matches --include "nope\/\*\*", "\*\.md"/);
  assert.deepEqual(await snapshotTree(data), before);
  assert.equal((await Deno.stat(data)).mtime!.getTime(), beforeRoot.mtime!.getTime());
  assert.deepEqual(leftovers(dir.path), []);

  const fresh = await restore(s, "--target", `${dir.path}/fresh`, "--include", "nope");
  assert.equal(fresh.code, 2, fresh.stderr);
  await assert.rejects(Deno.lstat(`${dir.path}/fresh`), Deno.errors.NotFound);
  assert.deepEqual(leftovers(dir.path), []);
});

Deno.test("a bad --include pattern is a usage error before any question or download", async () => {
  await using dir = await tempDir();
  const { s, data } = await backedUp(dir.path);
  const before = await snapshotTree(data);
  // With --yes the restore would run; without it (no terminal) it would ask first.
  for (const yes of [["--yes"], []]) {
    const result = await s.run([
      "restore",
      "svc",
      "--backup",
      "latest",
      "--include",
      "[abc",
      ...yes,
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--include: unclosed "\[" in pattern "\[abc"/);
    assert.doesNotMatch(result.stderr, /--yes|unexpected/);
  }
  assert.deepEqual(await snapshotTree(data), before);
  assert.deepEqual(leftovers(dir.path), []);

  // Before the backups are even listed: a service without backups still gets the usage error.
  const empty = await setup(`${dir.path}`, { other: { path: data } });
  const result = await empty.run(["restore", "other", "--backup", "latest", "--include", "{a"]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /unclosed "\{" in pattern "\{a"/);
});
