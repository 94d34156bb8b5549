/**
 * `packrat backup` of a service with `docker:` against a real dockerd (scripts/services/dockerd,
 * found through DOCKER_HOST): the containers are stopped while the archive is written, started
 * again (and healthy) before the upload, and started again on every failure path too.
 *
 * The test containers append the host's uptime to /data/ticks every 100 ms, so the live ticks
 * file shows exactly when a container was down, and the archived copy shows when it was read.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DockerClient } from "../../src/docker/client.ts";
import {
  entries,
  filesUnder,
  pollUntil,
  ROOT,
  type Setup,
  setup,
  show,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";
import { docker, dockerHost } from "./support.ts";

const text = new TextDecoder();

const LOOP = 'trap "exit 0" TERM; touch /data/alive; ' +
  "while true; do read up _ < /proc/uptime; echo $up >> /data/ticks; sleep 0.1; done";

interface TestContainer extends AsyncDisposable {
  name: string;
  data: string;
}

/**
 * A busybox container writing ticks into `data` (bind-mounted at /data), with a healthcheck
 * unless `health: false`; stopped again before returning when `running: false`. Removed on
 * dispose (the directory belongs to the caller).
 */
async function container(
  data: string,
  options: { health?: boolean; running?: boolean } = {},
): Promise<TestContainer> {
  const name = `packrat-backup-test-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(data, { recursive: true });
  const health = options.health === false ? [] : [
    "--health-cmd",
    "test -f /data/alive || { echo no /data/alive; exit 1; }",
    "--health-interval",
    "1s",
    "--health-retries",
    "1",
  ];
  const c: TestContainer = {
    name,
    data,
    async [Symbol.asyncDispose]() {
      await docker("rm", "-f", "-v", name).catch(() => {});
    },
  };
  try {
    await docker(
      "run",
      "-d",
      "--name",
      name,
      "--network",
      "none",
      "-v",
      `${data}:/data`,
      ...health,
      "local/busybox",
      "sh",
      "-c",
      LOOP,
    );
    await pollUntil(`${name} to tick`, async () => (await ticks(data)).length >= 3);
    if (options.health !== false) {
      await pollUntil(
        `${name} to be healthy`,
        async () => (await state(name)).health === "healthy",
      );
    }
    if (options.running === false) await docker("stop", "-t", "10", name);
  } catch (error) {
    await c[Symbol.asyncDispose]();
    throw error;
  }
  return c;
}

interface State {
  running: boolean;
  status: string;
  health: string;
  startedAt: number;
  finishedAt: number;
  raw: string;
}

/** Docker times have nanoseconds; Date.parse wants at most milliseconds. */
function dockerTime(value: string): number {
  if (value.startsWith("0001-")) return 0;
  return Date.parse(value.replace(/(\.\d{3})\d*/, "$1"));
}

async function state(name: string): Promise<State> {
  const raw = await docker("inspect", "--format", "{{json .State}}", name);
  const s = JSON.parse(raw);
  return {
    running: s.Running,
    status: s.Status,
    health: s.Health?.Status ?? "none",
    startedAt: dockerTime(s.StartedAt),
    finishedAt: dockerTime(s.FinishedAt),
    raw,
  };
}

/** Wall-clock ms of boot: /proc/uptime (what the containers write) + this = Date.now(). */
async function bootOffsetMs(): Promise<number> {
  // Deno refuses to read /proc without --allow-all; cat may.
  const before = Date.now();
  const out = await new Deno.Command("cat", { args: ["/proc/uptime"], stdout: "piped" }).output();
  const after = Date.now();
  const up = Number(text.decode(out.stdout).split(" ")[0]);
  return (before + after) / 2 - up * 1000;
}

/** The tick lines of a ticks file (complete lines only). */
async function tickLines(data: string): Promise<string[]> {
  const content = await Deno.readTextFile(`${data}/ticks`).catch(() => "");
  return content.split("\n").filter(Boolean);
}

async function ticks(data: string): Promise<number[]> {
  const offset = await bootOffsetMs();
  return (await tickLines(data)).map((line) => Number(line) * 1000 + offset);
}

/** /proc/uptime has 10 ms resolution, and the offset is measured at another instant. */
const SLACK_MS = 40;

interface Gap {
  /** Index of the last tick before the gap. */
  index: number;
  from: number;
  to: number;
}

/** The longest pause between consecutive ticks after `since` (wall ms). */
function longestGap(times: number[], since: number): Gap {
  let best: Gap = { index: -1, from: 0, to: 0 };
  for (let i = 0; i + 1 < times.length; i++) {
    if (times[i + 1] < since) continue;
    if (times[i + 1] - times[i] > best.to - best.from) {
      best = { index: i, from: times[i], to: times[i + 1] };
    }
  }
  return best;
}

/**
 * Checks that the container was down over its last stop/start (from docker's own FinishedAt and
 * StartedAt), that both happened within the run, that no tick was written in between, and that
 * the archived ticks file is exactly the live file up to the stop: it was read while the container
 * was down (no tick of the restarted container, no torn line).
 */
async function assertStoppedWhileArchived(
  c: TestContainer,
  s: State,
  archivedTicks: string,
  run: { start: number; end: number },
): Promise<Gap> {
  assert.ok(
    s.finishedAt >= run.start - SLACK_MS,
    `${c.name} was not stopped during the run: FinishedAt ${
      new Date(s.finishedAt).toISOString()
    }, ` +
      `run started ${new Date(run.start).toISOString()}`,
  );
  assert.ok(
    s.startedAt > s.finishedAt,
    `${c.name}: started ${s.startedAt} ≤ stopped ${s.finishedAt}`,
  );
  assert.ok(s.startedAt <= run.end, `${c.name} started after the run ended`);
  const times = await ticks(c.data);
  const lines = await tickLines(c.data);
  const gap = longestGap(times, run.start);
  assert.ok(gap.index >= 0, `${c.name}: no ticks around the run`);
  assert.ok(
    gap.from <= s.finishedAt + SLACK_MS && gap.to >= s.startedAt - SLACK_MS,
    `${c.name}: the longest pause in its ticks (${gap.from}..${gap.to}) does not cover its ` +
      `stop/start (${s.finishedAt}..${s.startedAt})`,
  );
  const expected = lines.slice(0, gap.index + 1).join("\n") + "\n";
  if (archivedTicks !== expected) {
    const got = archivedTicks.split("\n").filter(Boolean);
    assert.fail(
      `${c.name}: the archived ticks are not the live ticks up to the stop: archived ` +
        `${got.length} lines ending ${JSON.stringify(got.slice(-2))}, live file has ` +
        `${gap.index + 1} lines before the pause ending ${
          JSON.stringify(lines.slice(gap.index - 1, gap.index + 1))
        }, then ${JSON.stringify(lines[gap.index + 1])}`,
    );
  }
  return gap;
}

/**
 * A `synology` destination on a closed port: every upload attempt is refused at once, and the
 * retries (1 s + 2 s backoff) make the upload phase last at least 3 s.
 */
async function closedSynology(dir: string): Promise<Record<string, unknown>> {
  const key = `${dir}/id_ed25519`;
  const made = await new Deno.Command("ssh-keygen", {
    args: ["-q", "-t", "ed25519", "-N", "", "-f", key],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(made.code, 0, text.decode(made.stderr));
  return {
    host: "127.0.0.1",
    port: 1,
    username: "nobody",
    key_file: key,
    host_key: `SHA256:${"A".repeat(43)}`,
    path: "backups",
  };
}

/** Restores the newest backup of `service` into `target` and returns the path. */
async function restoreLatest(s: Setup, service: string, target: string): Promise<string> {
  const result = await s.run([
    "restore",
    service,
    "--backup",
    "latest",
    "--from",
    "local",
    "--target",
    target,
  ]);
  assert.equal(result.code, 0, show(result));
  return target;
}

Deno.test("docker: the container is stopped while archiving, then running and healthy before the upload", async () => {
  dockerHost();
  await using dir = await tempDir("packrat-docker-");
  await using c = await container(`${dir.path}/data`);
  const s = await setup(dir.path, {
    svc: {
      path: c.data,
      docker: { container: c.name, stop_timeout: "10s", health_timeout: "30s" },
    },
  }, { synology: await closedSynology(dir.path) });
  const before = await state(c.name);

  const start = Date.now();
  const result = await s.run(["backup", "svc"]);
  const end = Date.now();
  const after = await state(c.name);

  // local got the backup, the closed port did not: partial success.
  assert.equal(result.code, 6, show(result));
  assert.match(result.stdout, /\n {2}local\s+ok/, result.stdout);
  assert.match(result.stdout, /\n {2}synology\s+FAILED/, result.stdout);
  // Running and healthy again the moment packrat exits.
  assert.equal(after.running, true, `not running after the backup: ${after.raw}`);
  assert.equal(after.health, "healthy", `not healthy after the backup: ${after.raw}`);
  assert.ok(after.startedAt > before.startedAt, "the container was never restarted");
  // Started again before the upload: the ≥ 3 s of upload retries came after the start.
  const startedBeforeEnd = end - after.startedAt;
  assert.ok(
    startedBeforeEnd >= 2_000,
    `the container was started only ${startedBeforeEnd} ms before packrat exited; ` +
      `it should be running again before the (≥ 3 s) upload phase`,
  );

  const target = await restoreLatest(s, "svc", `${dir.path}/restored`);
  const gap = await assertStoppedWhileArchived(
    c,
    after,
    await Deno.readTextFile(`${target}/ticks`),
    { start, end },
  );
  console.log(
    `  down ${Math.round(gap.to - gap.from)} ms (stop→start ${
      after.startedAt - after.finishedAt
    } ms), ` +
      `started ${startedBeforeEnd} ms before exit, run ${end - start} ms`,
  );
});

Deno.test("docker: the container runs again after every failure", async (t) => {
  dockerHost();

  await t.step("pre_backup fails: exit 1, the container was never stopped", async () => {
    await using dir = await tempDir("packrat-docker-");
    await using c = await container(`${dir.path}/data`);
    const s = await setup(dir.path, {
      svc: {
        path: c.data,
        docker: { container: c.name, stop_timeout: "10s", health_timeout: "30s" },
        pre_backup: { command: "exit 1" },
      },
    });
    const before = await state(c.name);
    const result = await s.run(["backup", "svc"]);
    const after = await state(c.name);
    assert.equal(result.code, 1, show(result));
    assert.match(result.stderr, /pre_backup/);
    assert.equal(after.running, true, after.raw);
    assert.equal(after.startedAt, before.startedAt, "the container was stopped and started");
    assert.equal(after.finishedAt, before.finishedAt, "the container was stopped");
    assert.deepEqual(await filesUnder(s.dest), []);
  });

  await t.step("the archive fails (service path missing): exit 1, the container runs", async () => {
    await using dir = await tempDir("packrat-docker-");
    await using c = await container(`${dir.path}/data`);
    const s = await setup(dir.path, {
      svc: {
        path: `${c.data}/missing`,
        docker: { container: c.name, stop_timeout: "10s", health_timeout: "30s" },
      },
    });
    const before = await state(c.name);
    const result = await s.run(["backup", "svc"]);
    const after = await state(c.name);
    assert.equal(result.code, 1, show(result));
    assert.match(result.stderr, /missing/);
    assert.equal(after.running, true, `not running after a failed archive: ${after.raw}`);
    assert.equal(after.health, "healthy", `not healthy after a failed archive: ${after.raw}`);
    assert.deepEqual(await filesUnder(s.dest), []);
    assert.deepEqual(await entries(`${dir.path}/staging`), []);
    console.log(
      `  restarted: ${after.startedAt !== before.startedAt}; stderr: ${
        result.stderr.trim().split("\n").join(" | ")
      }`,
    );
  });

  await t.step(
    "the only destination fails: exit 5, the container runs and is healthy",
    async () => {
      await using dir = await tempDir("packrat-docker-");
      await using c = await container(`${dir.path}/data`);
      const s = await setup(dir.path, {
        svc: {
          path: c.data,
          docker: { container: c.name, stop_timeout: "10s", health_timeout: "30s" },
        },
      }, { local: undefined, synology: await closedSynology(dir.path) });
      const before = await state(c.name);
      const start = Date.now();
      const result = await s.run(["backup", "svc"]);
      const end = Date.now();
      const after = await state(c.name);
      assert.equal(result.code, 5, show(result));
      assert.match(result.stdout, /synology\s+FAILED/);
      assert.equal(after.running, true, after.raw);
      assert.equal(after.health, "healthy", after.raw);
      assert.ok(after.startedAt > before.startedAt, "the container was never stopped and started");
      assert.ok(after.startedAt >= start && after.startedAt <= end);
      assert.deepEqual(await entries(`${dir.path}/staging`), []);
    },
  );
});

Deno.test("docker: SIGTERM while the container is stopped: exit 130, the container runs again", async () => {
  dockerHost();
  await using dir = await tempDir("packrat-docker-");
  await using c = await container(`${dir.path}/data`);
  // Big and incompressible, so the archive phase (container down) lasts long enough to hit.
  await writeRandomFile(`${c.data}/big.bin`, 400 * 1024 * 1024);
  const s = await setup(dir.path, {
    svc: {
      path: c.data,
      docker: { container: c.name, stop_timeout: "10s", health_timeout: "30s" },
    },
  });
  using client = new DockerClient();
  const child = new Deno.Command(`${ROOT}/scripts/packrat`, {
    args: ["--config", s.config, "backup", "svc"],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  try {
    await pollUntil(
      "packrat to stop the container",
      async () => !(await client.inspect(c.name)).running,
      60_000,
      5,
    );
  } catch (error) {
    child.kill("SIGKILL");
    const out = await output;
    throw new Error(`${(error as Error).message}\n${text.decode(out.stderr)}`);
  }
  child.kill("SIGTERM");
  const out = await output;
  const result = {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
  const after = await state(c.name);
  assert.equal(result.code, 130, show(result));
  assert.match(result.stderr, /interrupted by SIGTERM/);
  assert.equal(after.running, true, `not running after SIGTERM: ${after.raw}\n${show(result)}`);
  assert.deepEqual(await entries(`${dir.path}/staging`), [], "staging left behind");
  assert.deepEqual(
    (await filesUnder(s.dest)).filter((f) => f.endsWith(".packrat")),
    [],
    "an archive reached the destination",
  );
  console.log(
    `  health at exit: ${after.health}; stderr: ${result.stderr.trim().split("\n").join(" | ")}`,
  );
});

Deno.test("docker: a container that was stopped before the backup stays stopped", async () => {
  dockerHost();
  await using dir = await tempDir("packrat-docker-");
  await using c = await container(`${dir.path}/data`, { running: false });
  const s = await setup(dir.path, {
    svc: {
      path: c.data,
      docker: { container: c.name, stop_timeout: "10s", health_timeout: "30s" },
    },
  });
  const before = await state(c.name);
  assert.equal(before.running, false);
  const result = await s.run(["backup", "svc"]);
  const after = await state(c.name);
  assert.equal(result.code, 0, show(result));
  assert.equal(after.running, false, `a stopped container was started: ${after.raw}`);
  assert.equal(after.startedAt, before.startedAt, "the stopped container was started meanwhile");
  assert.equal(after.finishedAt, before.finishedAt);
  const target = await restoreLatest(s, "svc", `${dir.path}/restored`);
  assert.equal(
    await Deno.readTextFile(`${target}/ticks`),
    await Deno.readTextFile(`${c.data}/ticks`),
  );
});

Deno.test("docker: containers [a, b] are both stopped while archiving, stopped in order, started in reverse", async () => {
  dockerHost();
  await using dir = await tempDir("packrat-docker-");
  const data = `${dir.path}/data`;
  await using a = await container(`${data}/a`);
  await using b = await container(`${data}/b`);
  const s = await setup(dir.path, {
    svc: {
      path: data,
      docker: { containers: [a.name, b.name], stop_timeout: "5s", health_timeout: "30s" },
    },
  });
  const start = Date.now();
  const result = await s.run(["backup", "svc"]);
  const end = Date.now();
  const [sa, sb] = [await state(a.name), await state(b.name)];
  assert.equal(result.code, 0, show(result));
  for (const [c, st] of [[a, sa], [b, sb]] as const) {
    assert.equal(st.running, true, `${c.name} not running: ${st.raw}`);
    assert.equal(st.health, "healthy", `${c.name} not healthy: ${st.raw}`);
  }
  const target = await restoreLatest(s, "svc", `${dir.path}/restored`);
  const gapA = await assertStoppedWhileArchived(
    a,
    sa,
    await Deno.readTextFile(`${target}/a/ticks`),
    { start, end },
  );
  const gapB = await assertStoppedWhileArchived(
    b,
    sb,
    await Deno.readTextFile(`${target}/b/ticks`),
    { start, end },
  );
  assert.ok(
    sa.finishedAt <= sb.finishedAt,
    `b stopped before a: ${sa.finishedAt} > ${sb.finishedAt}`,
  );
  assert.ok(sb.startedAt <= sa.startedAt, `a started before b: ${sa.startedAt} < ${sb.startedAt}`);
  console.log(
    `  a down ${Math.round(gapA.to - gapA.from)} ms, b down ${Math.round(gapB.to - gapB.from)} ms`,
  );
});
