/**
 * Restores where mounted volumes are involved (tmpfs mounts; the tests run as root): the
 * target itself a mount point, mount points inside the tree, a failure midway that must be
 * rolled back. A mounted volume stays mounted where it was, gets the backup's contents for
 * its path, and nothing under it is deleted except what the backup replaces.
 */
import assert from "node:assert/strict";
import { assertOk, type Setup, setup, snapshotTree, tempDir } from "../helpers.ts";
import {
  bindMount,
  clearImmutable,
  immutable,
  leftovers,
  mountPoints,
  tmpfs,
} from "../restore/support.ts";

function restore(s: Setup, ...args: string[]) {
  return s.run(["restore", "svc", "--backup", "latest", "--yes", ...args]);
}

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
}

async function device(path: string): Promise<number> {
  return (await Deno.lstat(path)).dev;
}

Deno.test("--include into a target that is a mount point keeps live files and restores", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await using _ = await tmpfs(data, dir.path);
  await write(`${data}/docs/a.md`, "A1");
  await write(`${data}/keep.txt`, "keep 1");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  await write(`${data}/docs/a.md`, "A2");
  await write(`${data}/docs/new.md`, "new");
  await write(`${data}/keep.txt`, "keep 2");

  assertOk(await restore(s, "--include", "docs/**"));
  assert.equal(await Deno.readTextFile(`${data}/docs/a.md`), "A1");
  assert.equal(await Deno.readTextFile(`${data}/docs/new.md`), "new", "not in the backup: kept");
  assert.equal(await Deno.readTextFile(`${data}/keep.txt`), "keep 2", "not selected: kept");
  assert.deepEqual(await mountPoints(dir.path), [data]);
  assert.deepEqual(leftovers(dir.path), []);
});

Deno.test("--include replaces an entry of another type, also inside a mounted volume", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await using _ = await tmpfs(`${data}/vol`, dir.path);
  await write(`${data}/vol/was-file/inside.txt`, "in");
  await write(`${data}/vol/was-dir`, "file");
  await write(`${data}/vol/plain.txt`, "plain 1");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  const backedUp = await snapshotTree(data);
  await Deno.remove(`${data}/vol/was-file`, { recursive: true });
  await write(`${data}/vol/was-file`, "now a file");
  await Deno.remove(`${data}/vol/was-dir`);
  await write(`${data}/vol/was-dir/x`, "now a dir");
  await write(`${data}/vol/plain.txt`, "plain 2");

  assertOk(await restore(s, "--include", "vol/**"));
  const restored = await snapshotTree(data);
  for (const path of ["vol/was-file", "vol/was-file/inside.txt", "vol/was-dir", "vol/plain.txt"]) {
    assert.deepEqual(restored.get(path), backedUp.get(path), path);
  }
  assert.equal(await device(`${data}/vol/plain.txt`), await device(`${data}/vol`));
  assert.deepEqual(await mountPoints(dir.path), [`${data}/vol`]);
  assert.deepEqual(leftovers(dir.path), []);
});

Deno.test("full restore into a target that is a mount point swaps its contents", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await using _ = await tmpfs(data, dir.path);
  await write(`${data}/a.txt`, "A1");
  await write(`${data}/sub/b.txt`, "B1");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  const backedUp = await snapshotTree(data);
  const rootMode = (await Deno.stat(data)).mode! & 0o7777;
  await write(`${data}/a.txt`, "A2");
  await write(`${data}/new/c.txt`, "new");
  await Deno.remove(`${data}/sub`, { recursive: true });
  await Deno.chmod(data, 0o700);

  assertOk(await restore(s));
  assert.deepEqual(await snapshotTree(data), backedUp);
  assert.equal((await Deno.stat(data)).mode! & 0o7777, rootMode, "the root entry's mode");
  assert.deepEqual(await mountPoints(dir.path), [data]);
  assert.notEqual(await device(data), await device(dir.path));
  assert.deepEqual(leftovers(dir.path), []);
});

Deno.test("full restore with mount points inside the tree: volumes stay mounted and get the backup", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await using _vol = await tmpfs(`${data}/vol`, dir.path);
  await using _nested = await tmpfs(`${data}/a/vol2`, dir.path);
  await write(`${data}/top.txt`, "top 1");
  await write(`${data}/vol/x.txt`, "x1");
  await write(`${data}/vol/deep/h1`, "linked");
  await Deno.link(`${data}/vol/deep/h1`, `${data}/vol/h2`);
  await write(`${data}/a/other.txt`, "other 1");
  await write(`${data}/a/vol2/y.txt`, "y1");
  await Deno.chmod(`${data}/vol`, 0o751);
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  const backedUp = await snapshotTree(data);
  await write(`${data}/top.txt`, "top 2");
  await write(`${data}/vol/x.txt`, "x2");
  await write(`${data}/vol/extra.txt`, "not in the backup");
  await Deno.remove(`${data}/vol/deep`, { recursive: true });
  await write(`${data}/a/vol2/y.txt`, "y2");
  await write(`${data}/a/vol2/extra/z.txt`, "not in the backup");
  await write(`${data}/a/more.txt`, "not in the backup");
  await Deno.chmod(`${data}/vol`, 0o700);

  assertOk(await restore(s));
  assert.deepEqual(await snapshotTree(data), backedUp);
  assert.deepEqual(await mountPoints(dir.path), [`${data}/a/vol2`, `${data}/vol`]);
  // The restored files are on the volumes, not hidden under them.
  assert.equal(await device(`${data}/vol/x.txt`), await device(`${data}/vol`));
  assert.equal(await device(`${data}/a/vol2/y.txt`), await device(`${data}/a/vol2`));
  assert.notEqual(await device(`${data}/vol`), await device(data));
  assert.equal(
    (await Deno.stat(`${data}/vol/h2`)).ino,
    (await Deno.stat(`${data}/vol/deep/h1`)).ino,
  );
  assert.deepEqual(leftovers(dir.path), []);
});

Deno.test("a mount point that is not in the backup is left as it was, with a warning", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await write(`${data}/a.txt`, "A1");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  await using _ = await tmpfs(`${data}/later`, dir.path);
  await write(`${data}/later/precious.txt`, "on the volume");
  await write(`${data}/a.txt`, "A2");

  const result = assertOk(await restore(s));
  assert.match(
    result.stderr,
    /later is or holds a mount point and is not in the backup; left as it was/,
  );
  assert.equal(await Deno.readTextFile(`${data}/a.txt`), "A1");
  assert.equal(await Deno.readTextFile(`${data}/later/precious.txt`), "on the volume");
  assert.deepEqual(await mountPoints(dir.path), [`${data}/later`]);
  assert.deepEqual(leftovers(dir.path), []);
});

Deno.test("a bind mount of the same filesystem inside the tree: its source is never deleted", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  const source = `${dir.path}/elsewhere`;
  await write(`${source}/precious.txt`, "P1");
  await write(`${data}/a/own.txt`, "O1");
  await Deno.mkdir(`${data}/a/bound`);
  await using _ = await bindMount(source, `${data}/a/bound`, dir.path);
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  await write(`${data}/a/own.txt`, "O2");
  await write(`${source}/precious.txt`, "P2");

  // Device numbers cannot show this mount, so a/ moves aside whole, the bind mount with it;
  // removing the old tree finds it (it cannot be renamed) and leaves it alone.
  const result = assertOk(await restore(s));
  assert.match(
    result.stderr,
    /warning: restored; the previous contents were left at \S+\.packrat-old-\w+ \(\S+\/a\/bound is a mount point; it and its contents were left alone\)/,
  );
  assert.equal(await Deno.readTextFile(`${data}/a/own.txt`), "O1");
  assert.equal(await Deno.readTextFile(`${source}/precious.txt`), "P2");
});

Deno.test("a swap that fails midway is rolled back: the target is as before", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await write(`${data}/a.txt`, "A1");
  await write(`${data}/m/b.txt`, "B1");
  await write(`${data}/z.txt`, "Z1");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  await write(`${data}/a.txt`, "A2");
  await write(`${data}/m/c.txt`, "new");
  await write(`${data}/z.txt`, "Z2");
  // Even root cannot move an immutable file: the swap fails once a.txt and m/ were moved.
  await immutable(`${data}/z.txt`, true);
  try {
    const before = await snapshotTree(data);
    const beforeRoot = (await Deno.stat(data)).mtime!.getTime();
    const result = await restore(s);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /error: restoring into \S+\/data failed \(.*z\.txt.*\); the previous contents were put back, nothing changed/,
    );
    assert.deepEqual(await snapshotTree(data), before);
    assert.equal((await Deno.stat(data)).mtime!.getTime(), beforeRoot);
    assert.deepEqual(leftovers(dir.path), []);
  } finally {
    await clearImmutable(data);
  }
});
