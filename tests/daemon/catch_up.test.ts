/**
 * Catch-up at daemon start, like systemd's `Persistent=true`: a scheduled time missed while the
 * daemon was down is run within seconds; not with `catch_up: false`, not for a service seen for
 * the first time, and a run that died mid-way counts as missed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, exists, findArchives, type Setup, setup, tempDir } from "../helpers.ts";
import { historyOf, ranDaysAgo, startDaemon, waitForLines } from "./support.ts";

async function dailyService(dir: string, extra: Record<string, unknown> = {}): Promise<Setup> {
  await Deno.mkdir(`${dir}/data`);
  await Deno.writeTextFile(`${dir}/data/a.txt`, "a\n");
  return setup(dir, { app: { path: `${dir}/data`, schedule: "0 3 * * *", ...extra } });
}

Deno.test("daemon: a daily run missed two days ago is caught up within seconds of the start", async () => {
  await using dir = await tempDir("packrat-catchup-");
  const s = await dailyService(dir.path);
  await ranDaysAgo(s, "app", 2);
  const started = Date.now();
  await using daemon = await startDaemon(s);
  assert.match(daemon.stderrSoFar(), /ready: 1 scheduled service, 1 to catch up/);
  assert.match(
    daemon.stderrSoFar(),
    /app: the run due .* 03:00 UTC .* did not happen; catching up/,
  );
  await waitForLines(daemon, /app: backup \S+ stored on local/, 1, 15_000);
  const seconds = (Date.now() - started) / 1000;
  assert.ok(seconds < 15, `caught up after ${seconds} s`);
  const history = await historyOf(s, "app");
  assert.equal(history.lastAttempt?.trigger, "catch-up");
  assert.equal(history.lastAttempt?.outcome, "succeeded");
  assert.equal((await findArchives(s.dest, "app")).length, 1);
  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
});

Deno.test("daemon: catch_up: false leaves the missed run alone", async () => {
  await using dir = await tempDir("packrat-catchup-");
  const s = await dailyService(dir.path, { catch_up: false });
  await ranDaysAgo(s, "app", 2);
  const before = await historyOf(s, "app");
  await using daemon = await startDaemon(s);
  // The ready line comes after the catch-up decision: it is the daemon's own count.
  assert.match(daemon.stderrSoFar(), /ready: 1 scheduled service, 0 to catch up/);
  assert.doesNotMatch(daemon.stderrSoFar(), /catching up|starting/);
  // Two days without a backup is twice a daily interval: overdue, and said so once.
  await waitForLines(daemon, /error: app: no successful backup since /);
  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
  const { staleNotified, ...after } = await historyOf(s, "app");
  assert.deepEqual(after, before);
  assert.ok(staleNotified, "the stale check noted its notification");
  assert.equal(await exists(`${s.dest}/testhost/app`), false, "no backup was made");
});

Deno.test("daemon: a service seen for the first time is not caught up; its history starts", async () => {
  await using dir = await tempDir("packrat-catchup-");
  const s = await dailyService(dir.path);
  const before = Date.now();
  await using daemon = await startDaemon(s);
  assert.match(daemon.stderrSoFar(), /ready: 1 scheduled service, 0 to catch up/);
  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
  const history = await historyOf(s, "app");
  assert.ok(Date.parse(history.since) >= before - 1000, `since ${history.since}`);
  assert.equal(history.lastAttempt, undefined);
});

Deno.test("daemon: a run that died mid-way is recorded as such and caught up", async () => {
  await using dir = await tempDir("packrat-catchup-");
  const s = await dailyService(dir.path);
  await ranDaysAgo(s, "app", 2);
  const history = await historyOf(s, "app");
  // What a kill -9 leaves: an attempt that says "running", by a process that is gone.
  const started = new Date(Date.now() - 3_600_000).toISOString();
  await Deno.writeTextFile(
    `${s.dir}/state/services/app.json`,
    JSON.stringify({
      ...history,
      lastAttempt: { started, trigger: "schedule", outcome: "running", pid: 999_999 },
    }),
  );
  await using daemon = await startDaemon(s);
  assert.match(
    daemon.stderrSoFar(),
    new RegExp(`app: the run started ${started} \\(pid 999999\\) died before it ended`),
  );
  assert.match(daemon.stderrSoFar(), /1 to catch up/);
  await waitForLines(daemon, /app: backup \S+ stored/, 1, 15_000);
  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
});
