/**
 * StateLock on real files: exclusive (per open file, so also within one process), its run
 * record written before each step and gone once there is nothing left to undo, and what a
 * dead holder recorded found by the next one.
 */
import assert from "node:assert/strict";
import { LockedError } from "../../src/errors.ts";
import { StateLock } from "../../src/state/lock.ts";
import { exists, tempDir } from "../helpers.ts";

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));

Deno.test("a service lock is exclusive, names its holder, and is free again once released", async () => {
  await using dir = await tempDir();
  const first = StateLock.service(dir.path, "gitea", "backup");
  try {
    assert.throws(
      () => StateLock.service(dir.path, "gitea", "restore"),
      (error: unknown) =>
        error instanceof LockedError &&
        new RegExp(`gitea is busy: a backup \\(pid ${Deno.pid}, since `).test(error.message),
    );
    assert.equal(StateLock.try(dir.path, "gitea", "prune"), undefined);
    // Another service is another lock.
    StateLock.service(dir.path, "postgres", "backup").release();
  } finally {
    first.release();
  }
  const again = StateLock.service(dir.path, "gitea", "prune");
  assert.equal((await readJson(`${dir.path}/locks/gitea.lock`)).operation, "prune");
  again.release();
});

Deno.test("the run record is written before each step and removed once empty", async () => {
  await using dir = await tempDir();
  const record = `${dir.path}/locks/svc.json`;
  const lock = StateLock.service(dir.path, "svc", "backup");
  try {
    assert.equal(await exists(record), false);
    lock.add("containers", "db");
    lock.add("paths", "/staging/file");
    lock.add("paths", "/staging/file");
    const written = await readJson(record);
    assert.deepEqual(written.containers, ["db"]);
    assert.deepEqual(written.paths, ["/staging/file"]);
    assert.equal(written.holder.pid, Deno.pid);
    lock.remove("containers", "db");
    lock.remove("paths", "/staging/file");
    assert.equal(await exists(record), false, "an empty record stays on disk");
    lock.add("uploads", "20260101T000000.000Z");
  } finally {
    lock.release();
  }
  // Kept for the next run of the service: partial uploads are still to be removed.
  assert.deepEqual((await readJson(record)).uploads, ["20260101T000000.000Z"]);
  const next = StateLock.service(dir.path, "svc", "backup");
  try {
    assert.deepEqual(next.record.uploads, ["20260101T000000.000Z"]);
    assert.equal(next.record.holder?.operation, "backup");
  } finally {
    next.release();
  }
});

Deno.test("a record cut short by a crash reads as empty; strangers in it are ignored", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/locks`);
  await Deno.writeTextFile(`${dir.path}/locks/svc.json`, '{"containers": ["db", 4], "pa');
  const lock = StateLock.service(dir.path, "svc", "backup");
  try {
    assert.deepEqual(lock.record, { containers: [], paths: [], uploads: [] });
  } finally {
    lock.release();
  }
  await Deno.writeTextFile(
    `${dir.path}/locks/svc.json`,
    JSON.stringify({ containers: ["db", 4, null], paths: "nope", holder: { pid: "x" } }),
  );
  const again = StateLock.service(dir.path, "svc", "backup");
  try {
    assert.deepEqual(again.record, {
      containers: ["db"],
      paths: [],
      uploads: [],
      holder: undefined,
    });
  } finally {
    again.release();
  }
});

Deno.test("a run lock of its own: unique, listed while it has a record, gone when released", async () => {
  await using dir = await tempDir();
  const a = StateLock.run(dir.path, "restore");
  const b = StateLock.run(dir.path, "restore");
  assert.notEqual(a.key, b.key);
  a.add("paths", "/target/.packrat-restore-abc");
  assert.deepEqual(StateLock.recordedKeys(dir.path), [a.key]);
  a.remove("paths", "/target/.packrat-restore-abc");
  a.release();
  b.release();
  assert.deepEqual(await Array.fromAsync(Deno.readDir(`${dir.path}/locks`)), []);
  assert.deepEqual(StateLock.recordedKeys(`${dir.path}/nothing-here`), []);
});

Deno.test("a state directory that cannot be made is a clear error", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/file`, "");
  assert.throws(
    () => StateLock.service(`${dir.path}/file`, "svc", "backup"),
    /cannot use the state directory .*\/file: .*set backup.state_dir/,
  );
});
