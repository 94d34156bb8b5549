/**
 * Once the restored tree is in place the restore has succeeded: removing the previous contents
 * copes with read-only directories, and when it still fails that is a warning naming where
 * they were left, not a failure.
 */
import assert from "node:assert/strict";
import { assertOk, setup, snapshotTree, tempDir } from "../helpers.ts";
import {
  clearImmutable,
  giveToNobody,
  immutable,
  leftovers,
  NOBODY,
  packratAsNobody,
} from "../restore/support.ts";

Deno.test("previous contents that cannot be deleted: restored, with a warning saying where they are", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(`${data}/sub`, { recursive: true });
  await Deno.writeTextFile(`${data}/a.txt`, "A1");
  await Deno.writeTextFile(`${data}/sub/stuck.txt`, "old");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  const backedUp = await snapshotTree(data);
  await Deno.writeTextFile(`${data}/a.txt`, "A2");
  // Even root cannot delete an immutable file; its directory can still be moved aside.
  await immutable(`${data}/sub/stuck.txt`, true);
  try {
    const result = await s.run(["restore", "svc", "--backup", "latest", "--yes"]);
    assertOk(result);
    const [old] = leftovers(data);
    assert.match(old, /\/data\/\.packrat-old-\w+$/);
    assert.match(
      result.stderr,
      new RegExp(
        `warning: restored; the previous contents were left at ${old} \\(cannot remove ${old}/sub/stuck\\.txt`,
      ),
    );
    assert.match(result.stdout, /restored/);
    const restored = await snapshotTree(data);
    for (const [path, info] of backedUp) assert.deepEqual(restored.get(path), info, path);
    assert.equal(await Deno.readTextFile(`${data}/a.txt`), "A1");
  } finally {
    await clearImmutable(data);
  }
});

Deno.test("as a regular user, read-only directories are replaced and the old ones removed", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(`${data}/ro/inner`, { recursive: true });
  await Deno.writeTextFile(`${data}/ro/inner/f.txt`, "F1");
  await Deno.writeTextFile(`${data}/a.txt`, "A1");
  const s = await setup(dir.path, { svc: { path: data } });
  await giveToNobody(dir.path);
  for (const path of [`${data}/ro/inner`, `${data}/ro`]) await Deno.chmod(path, 0o555);
  const home = `${dir.path}/home`;
  await Deno.mkdir(home);
  await Deno.chown(home, NOBODY, NOBODY);
  const asNobody = (args: string[]) => packratAsNobody(["--config", s.config, ...args], home);

  assertOk(await asNobody(["backup", "svc"]));
  const backedUp = await snapshotTree(data);
  await Deno.writeTextFile(`${data}/a.txt`, "A2");
  await Deno.chmod(`${data}/ro/inner`, 0o755);
  await Deno.writeTextFile(`${data}/ro/inner/f.txt`, "F2");
  await Deno.chmod(`${data}/ro/inner`, 0o555);

  for (const target of [data, `${dir.path}/elsewhere`]) {
    const result = await asNobody([
      "restore",
      "svc",
      "--backup",
      "latest",
      "--yes",
      "--target",
      target,
    ]);
    assertOk(result);
    assert.doesNotMatch(result.stderr, /warning/);
    assert.deepEqual(await snapshotTree(target), backedUp);
    assert.deepEqual(leftovers(dir.path), []);
  }
  // Let the temp dir go.
  for (const path of [`${data}/ro`, `${data}/ro/inner`]) await Deno.chmod(path, 0o755);
});
