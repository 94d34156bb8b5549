/**
 * pre_backup/post_backup hooks through the real CLI: what a hook sees (environment, working
 * directory), and what its failure or timeout does to the run. (Locks: locks.test.ts.)
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertOk,
  type CliResult,
  entries,
  exists,
  filesUnder,
  pollUntil,
  ROOT,
  type Setup,
  setup,
  tempDir,
} from "../helpers.ts";

const text = new TextDecoder();

/**
 * Runs `packrat --config … ARGS`. A run that hangs is killed after `deadlineMs` (and `cleanup`
 * called) and fails the test instead of hanging the suite; so does a process packrat left
 * behind holding its stdout/stderr open.
 */
async function run(
  s: Setup,
  args: string[],
  deadlineMs = 60_000,
  cleanup: () => Promise<unknown> = async () => {},
): Promise<CliResult> {
  const child = spawn(s, args);
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

/** Starts `packrat --config … ARGS` in the background. */
function spawn(s: Setup, args: string[]): Deno.ChildProcess {
  return new Deno.Command(`${ROOT}/scripts/packrat`, {
    args: ["--config", s.config, ...args],
    env: { NO_COLOR: "1" },
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

/** A service dir with one file. */
async function service(dir: string): Promise<string> {
  const data = `${dir}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/file.txt`, "payload\n");
  return data;
}

Deno.test("pre_backup's dump lands in the archive; environment applied, working_dir defaults to path", async () => {
  await using dir = await tempDir();
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
  const out = assertOk(await run(s, ["backup", "svc"]));
  assert.match(out.stdout, /svc: backup \d{8}T\d{6}\.\d{3}Z/);
  // The hook ran in the service path.
  assert.equal(await Deno.readTextFile(`${data}/dump.sql`), `${secret}\n`);
  assert.equal((await Deno.readTextFile(`${data}/cwd.txt`)).trim(), await Deno.realPath(data));

  const target = `${dir.path}/restored`;
  assertOk(await run(s, ["restore", "svc", "--backup", "latest", "--target", target]));
  assert.equal(await Deno.readTextFile(`${target}/dump.sql`), `${secret}\n`, "dump in archive");
  assert.equal((await Deno.readTextFile(`${target}/cwd.txt`)).trim(), await Deno.realPath(data));
  assert.equal(await Deno.readTextFile(`${target}/file.txt`), "payload\n");
  // The lock is released after the run.
  assert.equal(await exists(`${s.dir}/state/locks/svc.json`), false, "run record left behind");
});

Deno.test("pre_backup with an explicit working_dir runs there", async () => {
  await using dir = await tempDir();
  const data = await service(dir.path);
  const elsewhere = `${dir.path}/elsewhere`;
  await Deno.mkdir(elsewhere);
  const s = await setup(dir.path, {
    svc: {
      path: data,
      pre_backup: { command: `pwd > "${data}/cwd.txt"`, working_dir: elsewhere },
    },
  });
  assertOk(await run(s, ["backup", "svc"]));
  assert.equal(
    (await Deno.readTextFile(`${data}/cwd.txt`)).trim(),
    await Deno.realPath(elsewhere),
  );
});

Deno.test("pre_backup exits 1: exit 1 naming pre_backup, nothing archived or uploaded, post_backup still runs", async () => {
  await using dir = await tempDir();
  const data = await service(dir.path);
  const marker = `${dir.path}/post-ran`;
  const s = await setup(dir.path, {
    svc: {
      path: data,
      pre_backup: { command: "echo dump-failed-badly >&2; exit 1" },
      post_backup: { command: `touch "${marker}"` },
    },
  });
  const result = await run(s, ["backup", "svc"]);
  assert.equal(result.code, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.match(result.stderr, /pre_backup/, result.stderr);
  assert.deepEqual(await filesUnder(s.dest), [], "nothing may reach the destination");
  assert.deepEqual(await entries(`${dir.path}/staging`), [], "staging must be empty");
  assert.equal(await exists(marker), true, "post_backup did not run after a failed pre_backup");
  assert.equal(await exists(`${s.dir}/state/locks/svc.json`), false, "run record left behind");
  console.log(`  stderr: ${result.stderr.trim().split("\n").join(" | ")}`);
});

Deno.test("pre_backup timeout: fails with 'timed out', kills the hook's whole process tree", async () => {
  await using dir = await tempDir();
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
  const result = await run(s, ["backup", "svc"], 20_000, killSleepers);
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

Deno.test("post_backup fails after a good backup: exit 1, the backup is kept", async () => {
  await using dir = await tempDir();
  const data = await service(dir.path);
  const s = await setup(dir.path, {
    svc: { path: data, post_backup: { command: "echo post-hook-broke >&2; exit 3" } },
  });
  const result = await run(s, ["backup", "svc"]);
  assert.equal(result.code, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.match(result.stderr, /post_backup/, result.stderr);
  assert.equal((await filesUnder(s.dest)).length, 1, "the backup must be kept");
  assertOk(await run(s, ["verify", "svc"]));
  assert.equal(await exists(`${s.dir}/state/locks/svc.json`), false, "run record left behind");
  console.log(`  stderr: ${result.stderr.trim().split("\n").join(" | ")}`);
});
