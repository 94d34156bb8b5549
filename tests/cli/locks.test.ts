/**
 * One lock per service for every writer — backup, restore in place, prune — through the real
 * CLI: a second writer exits 8 naming the holder, whoever runs it and whatever its environment,
 * and a lock left by a dead process is free, to exactly one of two runs that want it.
 *
 * A backup is held in place by a pre_backup hook that waits for a file; a restore by SIGSTOP.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertOk,
  assertSameTree,
  exists,
  findArchives,
  pollUntil,
  pollWhileRunning,
  type Running,
  type Setup,
  setup,
  show,
  snapshotTree,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";

/** A service whose pre_backup waits until `release` exists, after noting each run in `started`. */
async function blockingService(dir: string, name = "svc") {
  const data = `${dir}/data`;
  await Deno.mkdir(`${data}/sub`, { recursive: true });
  await Deno.writeTextFile(`${data}/sub/file.txt`, "payload\n");
  await writeRandomFile(`${data}/blob.bin`, 3 * 1024 * 1024);
  const started = `${dir}/pre-started`;
  const release = `${dir}/release`;
  const service = {
    path: data,
    retain_backups: 1,
    pre_backup: {
      command: `echo run >> "${started}"; while [ ! -e "${release}" ]; do sleep 0.02; done`,
      working_dir: dir,
    },
  };
  return { data, started, release, services: { [name]: service } };
}

/** Whether some process holds the flock on `path` (tried without waiting). */
function isLocked(path: string): boolean {
  using file = Deno.openSync(path, { read: true });
  if (!file.tryLockSync(true)) return true;
  file.unlockSync();
  return false;
}

async function holder(s: Setup, service = "svc") {
  return JSON.parse(await Deno.readTextFile(`${s.dir}/state/locks/${service}.lock`));
}

/** Waits for `run` to reach its pre_backup; fails with its output if it exits first. */
function untilStarted(run: Running, started: string): Promise<void> {
  return pollWhileRunning(run, "the backup's pre_backup", () => exists(started));
}

Deno.test("restore in place, prune and repair during a backup exit 8 naming its pid; the backup is whole", async () => {
  await using dir = await tempDir();
  const svc = await blockingService(dir.path);
  const s = await setup(dir.path, svc.services);
  await Deno.writeTextFile(svc.release, "");
  assertOk(await s.run(["backup", "svc"]));
  await Deno.remove(svc.release);
  await Deno.remove(svc.started);
  const before = await snapshotTree(svc.data);

  await using backup = s.start(["backup", "svc"]);
  await untilStarted(backup, svc.started);
  const restore = ["restore", "svc", "--backup", "latest", "--yes"];
  const writers = [
    restore,
    // --target naming the service's own data, or a directory inside it, is in place too.
    [...restore, "--target", svc.data],
    [...restore, "--target", `${svc.data}/sub`],
    ["prune", "svc"],
    ["repair", "svc"],
  ];
  for (const args of writers) {
    const second = await s.run(args);
    assert.equal(second.code, 8, `${args.join(" ")}: ${show(second)}`);
    assert.match(second.stderr, new RegExp(`svc is busy: a backup \\(pid ${backup.pid},`));
    console.log(`  ${args[0]}: ${second.stderr.trim()}`);
  }
  assert.equal(isLocked(`${s.dir}/state/locks/svc.lock`), true, "the backup lost its lock");

  await Deno.writeTextFile(svc.release, "");
  const result = await backup.result;
  assert.equal(result.code, 0, show(result));
  // The restore never touched the data; prune never ran: retention of the backup kept 1.
  assertSameTree(await snapshotTree(svc.data), before);
  const archives = await findArchives(s.dest, "svc");
  assert.equal(archives.length, 1, `archives: ${archives}`);
  assert.ok(result.stdout.includes(archives[0].split("/").pop()!.replace(".packrat", "")));
  assertOk(await s.run(["verify", "svc"]));
  assert.equal(await exists(`${s.dir}/state/locks/svc.json`), false, "run record left behind");
});

Deno.test("a backup during a restore in place exits 8 naming the restore's pid; the restore completes", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/big.bin`, 100 * 1024 * 1024);
  await Deno.writeTextFile(`${data}/notes.txt`, "v1\n");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  const backedUp = await snapshotTree(data);
  await Deno.writeTextFile(`${data}/notes.txt`, "v2, to be replaced\n");

  await using restore = s.start(["restore", "svc", "--backup", "latest", "--yes"]);
  await pollUntil("the restore to take the lock", async () => {
    try {
      const h = await holder(s);
      return h.operation === "restore" && h.pid === restore.pid;
    } catch {
      return false;
    }
  });
  restore.kill("SIGSTOP");
  try {
    assert.equal(
      isLocked(`${s.dir}/state/locks/svc.lock`),
      true,
      "the restore finished before it could be held (make its data bigger)",
    );
    const backup = await s.run(["backup", "svc"]);
    assert.equal(backup.code, 8, show(backup));
    assert.match(backup.stderr, new RegExp(`svc is busy: a restore \\(pid ${restore.pid},`));
    console.log(`  backup: ${backup.stderr.trim()}`);
  } finally {
    restore.kill("SIGCONT");
  }
  const restored = await restore.result;
  assert.equal(restored.code, 0, show(restored));
  assertSameTree(await snapshotTree(data), backedUp);
  assert.equal((await findArchives(s.dest, "svc")).length, 1, "the locked-out backup stored");
});

Deno.test("runs with different environments, both as root, share the lock in /var/lib/packrat", async () => {
  assert.equal(Deno.uid(), 0, "this test checks the root default; run it as root");
  await using dir = await tempDir();
  const name = `env-${crypto.randomUUID().slice(0, 8)}`;
  const svc = await blockingService(dir.path, name);
  // No backup.state_dir: the default decides.
  const s = await setup(dir.path, svc.services, { state_dir: undefined });
  const lockFile = `/var/lib/packrat/locks/${name}.lock`;
  try {
    await using first = s.start(["backup", name], {
      env: {
        STATE_DIRECTORY: `${dir.path}/systemd-state`,
        XDG_STATE_HOME: `${dir.path}/xdg`,
        HOME: `${dir.path}/home`,
      },
    });
    await untilStarted(first, svc.started);
    assert.equal(JSON.parse(await Deno.readTextFile(lockFile)).pid, first.pid);

    const second = await s.run(["backup", name]);
    assert.equal(second.code, 8, show(second));
    assert.match(second.stderr, new RegExp(`pid ${first.pid}`));
    assert.equal(await Deno.readTextFile(svc.started), "run\n", "the second run got to pre_backup");

    await Deno.writeTextFile(svc.release, "");
    assertOk(await first.result);
    assert.equal(await exists(`${dir.path}/systemd-state`), false, "STATE_DIRECTORY was used");
  } finally {
    await Deno.remove(lockFile).catch(() => {});
  }
});

Deno.test("two runs take over a dead run's lock at once: exactly one wins and recovers its leftovers once", async () => {
  await using dir = await tempDir();
  const svc = await blockingService(dir.path);
  const s = await setup(dir.path, svc.services);
  // What a backup killed with -9 leaves: its lock file and record naming a staging file.
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const locks = `${s.dir}/state/locks`;
  await Deno.mkdir(locks, { recursive: true });
  await Deno.mkdir(`${s.dir}/staging`, { recursive: true });
  const orphan = `${s.dir}/staging/packrat-svc-20260101T000000.000Z.staging`;
  await writeRandomFile(orphan, 1024 * 1024);
  const deadHolder = { pid: dead.pid, operation: "backup", since: "2026-01-01T00:00:00.000Z" };
  await Deno.writeTextFile(`${locks}/svc.lock`, JSON.stringify(deadHolder));
  await Deno.writeTextFile(
    `${locks}/svc.json`,
    JSON.stringify({ containers: [], paths: [orphan], uploads: [], holder: deadHolder }),
  );

  await using a = s.start(["backup", "svc"]);
  await using b = s.start(["backup", "svc"]);
  await pollUntil(
    "one run to reach pre_backup and the other to exit",
    async () =>
      await exists(svc.started) &&
      await Promise.race([
        a.result.then(() => true),
        b.result.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 10)),
      ]),
  );
  await Deno.writeTextFile(svc.release, "");
  const results = [await a.result, await b.result];
  const codes = results.map((r) => r.code).sort();
  assert.deepEqual(codes, [0, 8], results.map(show).join("\n"));
  assert.equal(await Deno.readTextFile(svc.started), "run\n", "both runs got past the lock");
  assert.equal(await exists(orphan), false, "the dead run's staging file is still there");
  const recovered = results.filter((r) => r.stderr.includes(`removed ${orphan}`));
  assert.equal(recovered.length, 1, results.map(show).join("\n"));
  assert.match(recovered[0].stderr, new RegExp(`left by a backup \\(pid ${dead.pid}`));
  assert.equal(await exists(`${locks}/svc.json`), false, "run record left behind");
});

Deno.test("a lock is held by the process, not by the pid in its file", async (t) => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/a.txt`, "a\n");
  const s = await setup(dir.path, { svc: { path: data } });
  const lockFile = `${s.dir}/state/locks/svc.lock`;
  await Deno.mkdir(`${s.dir}/state/locks`, { recursive: true });
  // A live pid (this test's own) in a lock file nobody holds: a dead run's, whose pid was reused.
  const claim = { pid: Deno.pid, operation: "backup", since: new Date().toISOString() };

  await t.step("a file naming a live pid, not locked: taken", async () => {
    await Deno.writeTextFile(lockFile, JSON.stringify(claim));
    assertOk(await s.run(["backup", "svc"]));
    assert.equal((await findArchives(s.dest, "svc")).length, 1);
  });

  await t.step("locked by a live process: exit 8, the file's holder named", async () => {
    using file = await Deno.open(lockFile, { read: true, write: true });
    await file.lock(true);
    await Deno.writeTextFile(lockFile, JSON.stringify({ ...claim, operation: "prune" }));
    const result = await s.run(["backup", "svc"]);
    assert.equal(result.code, 8, show(result));
    assert.match(result.stderr, new RegExp(`svc is busy: a prune \\(pid ${Deno.pid},`));
    assert.equal((await findArchives(s.dest, "svc")).length, 1, "a locked-out run stored");
    await file.unlock();
  });

  await t.step("unlocked again: the next run proceeds", async () => {
    assertOk(await s.run(["backup", "svc"]));
    assert.equal((await findArchives(s.dest, "svc")).length, 2);
  });
});
