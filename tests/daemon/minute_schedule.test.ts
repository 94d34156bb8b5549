/**
 * The daemon on a real clock, with `* * * * *` schedules: runs a minute apart, status and
 * metrics after each, a broken config on SIGHUP that leaves the old schedule running, a run
 * longer than its interval that is not started twice, and concurrency 1 queueing a second
 * service behind the first. The scenarios wait for minute boundaries, so they run side by side.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, findArchives, type Setup, setup, show, tempDir } from "../helpers.ts";
import { parsePrometheusText } from "../status/prometheus.ts";
import { startDaemon, waitForLines } from "./support.ts";

const MINUTE_AND_A_BIT = 70_000;

Deno.test("daemon: minute schedules — runs, status, metrics, SIGHUP; no overlap; concurrency 1", async () => {
  await Promise.all([twoRunsAMinuteApart(), noOverlapAndAQueue()]);
});

async function twoRunsAMinuteApart(): Promise<void> {
  await using dir = await tempDir("packrat-daemon-");
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const metrics = `${dir.path}/packrat.prom`;
  const s = await setup(
    dir.path,
    { app: { path: `${dir.path}/data`, schedule: "* * * * *" } },
    { metrics_file: metrics },
  );
  await using daemon = await startDaemon(s);

  const [first] = await waitForLines(
    daemon,
    /app: backup \S+ stored on local/,
    1,
    MINUTE_AND_A_BIT,
  );
  const firstMetrics = await readMetrics(metrics);
  assert.equal(firstMetrics.status, 0);
  assert.ok(firstMetrics.nextRun * 1000 > Date.now(), "next run is in the future");

  // A broken config on SIGHUP: reported with its position, the old schedule keeps running.
  const good = await Deno.readTextFile(s.config);
  await Deno.writeTextFile(s.config, good.replace('"* * * * *"', '"61 * * * *"'));
  daemon.kill("SIGHUP");
  const [reloadError] = await waitForLines(daemon, /SIGHUP: /);
  assert.match(
    reloadError,
    /error: SIGHUP: .*config\.yaml:\d+:\d+: .*61.*keeping the configuration/,
  );
  await Deno.writeTextFile(s.config, good);

  const stored = await waitForLines(daemon, /app: backup \S+ stored on local/, 2, MINUTE_AND_A_BIT);
  const ids = stored.map((line) => /backup (\S+) stored/.exec(line)![1]);
  assert.notEqual(ids[0], ids[1]);
  assert.equal(stored[0], first);
  const gap = Date.parse(idTime(ids[1])) - Date.parse(idTime(ids[0]));
  assert.ok(gap > 50_000 && gap < 70_000, `runs ${gap} ms apart`);

  const status = await s.run(["status", "--json"]);
  assert.equal(status.code, 0, show(status));
  const app = JSON.parse(status.stdout).services[0];
  assert.equal(app.service, "app");
  assert.equal(app.destinations[0].backups, 2);
  assert.equal(app.destinations[0].newest.id, ids[1]);
  assert.equal(app.last_success.id, ids[1]);
  assert.equal(app.last_attempt.trigger, "schedule");
  assert.ok(Date.parse(app.next_run) > Date.now(), `next run ${app.next_run}`);
  assert.equal(app.overdue, false);

  const secondMetrics = await readMetrics(metrics);
  assert.ok(secondMetrics.lastSuccess > firstMetrics.lastSuccess, "metrics updated after run 2");
  assert.ok(secondMetrics.nextRun > firstMetrics.nextRun);

  daemon.kill("SIGTERM");
  const result = await daemon.result;
  assert.equal(result.code, 0, show(result));
  assert.equal((await findArchives(s.dest, "app")).length, 2);
}

async function noOverlapAndAQueue(): Promise<void> {
  await using dir = await tempDir("packrat-daemon-");
  const release = `${dir.path}/release`;
  for (const name of ["slow", "quick"]) {
    await Deno.mkdir(`${dir.path}/${name}`);
    await Deno.writeTextFile(`${dir.path}/${name}/a.txt`, `${name}\n`);
  }
  const s: Setup = await setup(dir.path, {
    slow: {
      path: `${dir.path}/slow`,
      schedule: "* * * * *",
      pre_backup: { command: `while [ ! -e '${release}' ]; do sleep 0.1; done` },
    },
    quick: { path: `${dir.path}/quick`, schedule: "* * * * *" },
  });
  await using daemon = await startDaemon(s);

  await waitForLines(daemon, /slow: starting scheduled backup/, 1, MINUTE_AND_A_BIT);
  // The next minute comes while slow still runs, and quick still waits for the one slot.
  await waitForLines(daemon, /slow: skipping the run due .*still running/, 1, MINUTE_AND_A_BIT);
  await waitForLines(daemon, /quick: skipping the run due .*still waiting/);
  assert.doesNotMatch(daemon.stderrSoFar(), /quick: starting/);

  await Deno.writeTextFile(release, "");
  await waitForLines(daemon, /quick: backup \S+ stored/);
  const log = daemon.stderrSoFar().split("\n");
  const slowStored = log.findIndex((l) => /slow: backup \S+ stored/.test(l));
  const quickStarted = log.findIndex((l) => /quick: starting scheduled backup/.test(l));
  assert.ok(slowStored >= 0 && slowStored < quickStarted, log.join("\n"));
  const slowStarts = log.slice(0, slowStored).filter((l) => /slow: starting/.test(l));
  assert.equal(slowStarts.length, 1, log.join("\n"));

  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
}

/** The app's metrics, read with a strict text-format parser. */
async function readMetrics(path: string) {
  const families = parsePrometheusText(await Deno.readTextFile(path));
  const value = (name: string) => {
    const sample = families.get(name)?.samples.find((x) => x.labels.service === "app");
    assert.ok(sample, `${name}{service="app"} in the metrics file`);
    return sample.value;
  };
  return {
    lastSuccess: value("packrat_last_success_timestamp_seconds"),
    status: value("packrat_last_run_status"),
    nextRun: value("packrat_next_run_timestamp_seconds"),
    size: value("packrat_backup_size_bytes"),
    duration: value("packrat_backup_duration_seconds"),
  };
}

/** `20261130T225800.015Z` → `2026-11-30T22:58:00.015Z`. */
function idTime(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}\.\d{3})Z$/.exec(id)!;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}
