/**
 * pre_backup/post_backup hooks and the per-service lock, through the real CLI: what a hook sees
 * (environment, working directory), what its failure or timeout does to the run, and how two
 * runs of one service exclude each other while a lock left by a dead process does not block.
 *
 * Every run gets its own STATE_DIRECTORY, so locks never leak between tests or into ~/.local.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertOk,
  type CliResult,
  entries,
  filesUnder,
  ROOT,
  type Setup,
  setup,
  tempDir,
} from "../helpers.ts";

const text = new TextDecoder();

/**
 * Runs `packrat --config … ARGS` with the test's own state directory. A run that hangs is killed
 * after `deadlineMs` (and `cleanup` called) and fails the test instead of hanging the suite; so
 * does a process packrat left behind holding its stdout/stderr open.
 */
async function run(
  s: Setup,
  state: string,
  args: string[],
  deadlineMs = 60_000,
  cleanup: () => Promise<unknown> = async () => {},
): Promise<CliResult> {
  const child = spawn(s, state, args);
  const output = finish(child);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = (ms: number) =>
    new Promise<"expired">((resolve) => timer = setTimeout(() => resolve("expired"), ms));
  try {
    const status = await Promise.race([child.status, expired(deadlineMs)]);
    clearTimeout(timer);
    if (status === "expired") {
      await stopChild(child);
      await cleanup();
      const result = await output;
      throw new Error(
        `packrat ${args.join(" ")} still ran after ${deadlineMs} ms and was killed\n` +
          `stdout: ${result.stdout}\nstderr: ${result.stderr}`,
      );
    }
    const done = await Promise.race([output, expired(5_000)]);
    clearTimeout(timer);
    if (done === "expired") {
      await cleanup();
      const result = await output;
      throw new Error(
        `packrat ${args.join(" ")} exited with ${status.code}, but a process it started still ` +
          `held its stdout/stderr open 5 s later\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
      );
    }
    return done;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `packrat --config … ARGS` in the background with the test's own state directory. */
function spawn(s: Setup, state: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(`${ROOT}/scripts/packrat`, {
    args: ["--config", s.config, ...args],
    env: { NO_COLOR: "1", STATE_DIRECTORY: state },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(child: Deno.ChildProcess): Promise<CliResult> {
  const { code, stdout, stderr } = await child.output();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already exited.
  }
  await child.status.catch(() => {});
}

async function pollUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot). */
async function startTime(pid: number): Promise<string> {
  // Deno refuses to read /proc without --allow-all; cat may.
  const out = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error(`no process ${pid}`);
  const stat = text.decode(out.stdout);
  // The command name (field 2) is in parentheses and may contain spaces.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return rest[22 - 3];
}

async function pidAlive(pid: number): Promise<boolean> {
  return (await new Deno.Command("test", { args: ["-e", `/proc/${pid}`] }).output()).success;
}

/** A service dir with one file. */
async function service(dir: string): Promise<string> {
  const data = `${dir}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/file.txt`, "payload\n");
  return data;
}

Deno.test("pre_backup's dump lands in the archive; environment applied, working_dir defaults to path", async () => {
  await using dir = await tempDir();
  const state = `${dir.path}/state`;
  const data = await service(dir.path);
  // Characters a shell would otherwise expand or split: the value must arrive verbatim.
  const secret = `s3cr3t 'quoted' "double" $HOME \`x\` ${crypto.randomUUID()}`;
  const s = await setup(dir.path, {
    svc: {
      path: data,
      pre_backup: {
        command: 'echo "$DB" > dump.sql && pwd > cwd.txt && echo "$PACKRAT_TEST_UNSET" > unset.txt',
        environment: { DB: secret },
      },
    },
  });
  const out = assertOk(await run(s, state, ["backup", "svc"]));
  assert.match(out.stdout, /svc: backup \d{8}T\d{6}\.\d{3}Z/);
  // The hook ran in the service path.
  assert.equal(await Deno.readTextFile(`${data}/dump.sql`), `${secret}\n`);
  assert.equal((await Deno.readTextFile(`${data}/cwd.txt`)).trim(), await Deno.realPath(data));

  const target = `${dir.path}/restored`;
  assertOk(await run(s, state, ["restore", "svc", "--backup", "latest", "--target", target]));
  assert.equal(await Deno.readTextFile(`${target}/dump.sql`), `${secret}\n`, "dump in archive");
  assert.equal((await Deno.readTextFile(`${target}/cwd.txt`)).trim(), await Deno.realPath(data));
  assert.equal(await Deno.readTextFile(`${target}/file.txt`), "payload\n");
  // The lock is released after the run.
  assert.equal(await exists(`${state}/locks/svc.lock`), false, "lock file left behind");
});

Deno.test("pre_backup with an explicit working_dir runs there", async () => {
  await using dir = await tempDir();
  const state = `${dir.path}/state`;
  const data = await service(dir.path);
  const elsewhere = `${dir.path}/elsewhere`;
  await Deno.mkdir(elsewhere);
  const s = await setup(dir.path, {
    svc: {
      path: data,
      pre_backup: { command: `pwd > "${data}/cwd.txt"`, working_dir: elsewhere },
    },
  });
  assertOk(await run(s, state, ["backup", "svc"]));
  assert.equal(
    (await Deno.readTextFile(`${data}/cwd.txt`)).trim(),
    await Deno.realPath(elsewhere),
  );
});

Deno.test("pre_backup exits 1: exit 1 naming pre_backup, nothing archived or uploaded, post_backup still runs", async () => {
  await using dir = await tempDir();
  const state = `${dir.path}/state`;
  const data = await service(dir.path);
  const marker = `${dir.path}/post-ran`;
  const s = await setup(dir.path, {
    svc: {
      path: data,
      pre_backup: { command: "echo dump-failed-badly >&2; exit 1" },
      post_backup: { command: `touch "${marker}"` },
    },
  });
  const result = await run(s, state, ["backup", "svc"]);
  assert.equal(result.code, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.match(result.stderr, /pre_backup/, result.stderr);
  assert.deepEqual(await filesUnder(s.dest), [], "nothing may reach the destination");
  assert.deepEqual(await entries(`${dir.path}/staging`), [], "staging must be empty");
  assert.equal(await exists(marker), true, "post_backup did not run after a failed pre_backup");
  assert.equal(await exists(`${state}/locks/svc.lock`), false, "lock file left behind");
  console.log(`  stderr: ${result.stderr.trim().split("\n").join(" | ")}`);
});

Deno.test("pre_backup timeout: fails with 'timed out', kills the hook's whole process tree", async () => {
  await using dir = await tempDir();
  const state = `${dir.path}/state`;
  const data = await service(dir.path);
  // A number no other process on the machine sleeps for: pgrep finds only this hook's processes.
  const seconds = 100_000 + Math.floor(Math.random() * 800_000);
  const pattern = `sleep ${seconds}`;
  const s = await setup(dir.path, {
    svc: {
      path: data,
      // A background child as well as a foreground one: killing only `sh` would leave both.
      pre_backup: { command: `${pattern} & ${pattern}; wait`, timeout: "1s" },
    },
  });
  const killSleepers = () => new Deno.Command("pkill", { args: ["-f", pattern] }).output();
  const t0 = Date.now();
  const result = await run(s, state, ["backup", "svc"], 20_000, killSleepers);
  const took = Date.now() - t0;
  try {
    assert.equal(result.code, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    assert.match(result.stderr, /timed out/, result.stderr);
    assert.match(result.stderr, /pre_backup/, result.stderr);
    assert.ok(took < 20_000, `the run took ${took} ms with a 1 s hook timeout`);
    assert.deepEqual(await filesUnder(s.dest), [], "nothing may reach the destination");
    assert.deepEqual(await entries(`${dir.path}/staging`), []);
    const pgrep = async () => {
      const out = await new Deno.Command("pgrep", { args: ["-f", pattern], stdout: "piped" })
        .output();
      return text.decode(out.stdout).trim();
    };
    let left = "";
    try {
      await pollUntil(`no more '${pattern}'`, async () => (left = await pgrep()) === "", 5_000);
    } catch {
      assert.fail(`the hook's processes survived the timeout: pids ${left.split("\n").join(" ")}`);
    }
    console.log(`  stderr: ${result.stderr.trim().split("\n").join(" | ")}`);
  } finally {
    // Never leave the sleepers behind, whatever the outcome.
    await killSleepers().catch(() => {});
  }
});

Deno.test("two concurrent backups of one service: the second exits 8 naming the pid, the first succeeds", async () => {
  await using dir = await tempDir();
  const state = `${dir.path}/state`;
  const data = await service(dir.path);
  const started = `${dir.path}/pre-started`;
  const s = await setup(dir.path, {
    svc: {
      path: data,
      // Appends a line per run: the second run must never get as far as the hook.
      pre_backup: { command: `echo run >> "${started}"; sleep 3` },
    },
  });
  const first = spawn(s, state, ["backup", "svc"]);
  try {
    // The lock is taken before pre_backup: once the hook runs, the lock is held.
    await pollUntil("the first run's pre_backup", () => exists(started));
    const lock = JSON.parse(await Deno.readTextFile(`${state}/locks/svc.lock`));
    const realStart = await startTime(first.pid);

    const second = await run(s, state, ["backup", "svc"]);
    assert.equal(second.code, 8, `stdout: ${second.stdout}\nstderr: ${second.stderr}`);
    assert.match(second.stderr, /is already being backed up/);
    assert.ok(
      second.stderr.includes(String(first.pid)),
      `pid ${first.pid} not named: ${second.stderr}`,
    );
    console.log(`  second run: ${second.stderr.trim()}`);
    // The lock file names the holder by pid and start time (field 22 of /proc/PID/stat).
    assert.equal(lock.pid, first.pid, `lock file: ${JSON.stringify(lock)}`);
    assert.equal(String(lock.start), realStart, `lock file: ${JSON.stringify(lock)}`);
    assert.ok(!Number.isNaN(Date.parse(lock.since)), `since: ${lock.since}`);

    const result = await finish(first);
    assert.equal(result.code, 0, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    assert.equal(await Deno.readTextFile(started), "run\n", "the locked-out run ran pre_backup");
    assert.equal((await filesUnder(s.dest)).length, 1, "exactly one archive");
    assert.equal(await exists(`${state}/locks/svc.lock`), false, "lock file left behind");
  } finally {
    await stopChild(first);
  }
  // The lock is per service and released: a third run now succeeds.
  assertOk(await run(s, state, ["backup", "svc"]));
});

Deno.test("a lock held by a live process blocks; one left by a dead process is taken over", async (t) => {
  await using dir = await tempDir();
  const state = `${dir.path}/state`;
  const data = await service(dir.path);
  const s = await setup(dir.path, { svc: { path: data } });
  const lockFile = `${state}/locks/svc.lock`;
  await Deno.mkdir(`${state}/locks`, { recursive: true });

  await t.step("live: this test process's own pid and start time", async () => {
    const lock = {
      pid: Deno.pid,
      start: await startTime(Deno.pid),
      since: new Date().toISOString(),
    };
    await Deno.writeTextFile(lockFile, JSON.stringify(lock));
    const result = await run(s, state, ["backup", "svc"]);
    assert.equal(result.code, 8, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    assert.match(result.stderr, /is already being backed up/);
    assert.ok(result.stderr.includes(String(Deno.pid)), result.stderr);
    assert.deepEqual(await filesUnder(s.dest), []);
    // Someone else's lock is left alone.
    assert.deepEqual(JSON.parse(await Deno.readTextFile(lockFile)), lock);
    await Deno.remove(lockFile);
  });

  await t.step("stale: the pid of a process that has exited", async () => {
    const child = new Deno.Command("true").spawn();
    const start = await startTime(child.pid).catch(() => "1");
    await child.status;
    await pollUntil("the dead process to be reaped", async () => !(await pidAlive(child.pid)));
    await Deno.writeTextFile(
      lockFile,
      JSON.stringify({
        pid: child.pid,
        start,
        since: new Date(Date.now() - 3600_000).toISOString(),
      }),
    );
    const archives = (await filesUnder(s.dest)).length;
    const result = assertOk(await run(s, state, ["backup", "svc"]));
    assert.match(result.stdout, /svc: backup /);
    assert.equal((await filesUnder(s.dest)).length, archives + 1);
    assert.equal(await exists(lockFile), false, "the taken-over lock was not released");
    console.log(`  stderr: ${result.stderr.trim().split("\n").join(" | ")}`);
  });

  await t.step("stale: a live pid whose start time differs (the pid was reused)", async () => {
    const real = Number(await startTime(Deno.pid));
    await Deno.writeTextFile(
      lockFile,
      JSON.stringify({
        pid: Deno.pid,
        start: String(real + 12345),
        since: new Date().toISOString(),
      }),
    );
    const archives = (await filesUnder(s.dest)).length;
    const result = await run(s, state, ["backup", "svc"]);
    assert.equal(result.code, 0, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    assert.equal((await filesUnder(s.dest)).length, archives + 1);
    assert.equal(await exists(lockFile), false, "the taken-over lock was not released");
  });
});

Deno.test("post_backup fails after a good backup: exit 1, the backup is kept", async () => {
  await using dir = await tempDir();
  const state = `${dir.path}/state`;
  const data = await service(dir.path);
  const s = await setup(dir.path, {
    svc: { path: data, post_backup: { command: "echo post-hook-broke >&2; exit 3" } },
  });
  const result = await run(s, state, ["backup", "svc"]);
  assert.equal(result.code, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.match(result.stderr, /post_backup/, result.stderr);
  assert.equal((await filesUnder(s.dest)).length, 1, "the backup must be kept");
  assertOk(await run(s, state, ["verify", "svc"]));
  assert.equal(await exists(`${state}/locks/svc.lock`), false, "lock file left behind");
  console.log(`  stderr: ${result.stderr.trim().split("\n").join(" | ")}`);
});
