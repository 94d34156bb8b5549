/** What Packrat remembers about each service between runs, and how a run changes it. */
import assert from "node:assert/strict";
import { PackratError } from "../../src/errors.ts";
import {
  attemptFinished,
  attemptStarted,
  hasHistory,
  readHistory,
  type RunEnd,
  type ServiceHistory,
  updateHistory,
  writeHistory,
} from "../../src/state/history.ts";
import { entries, tempDir } from "../helpers.ts";

const SINCE = "2026-01-01T00:00:00.000Z";
const FRESH: ServiceHistory = { service: "app", since: SINCE, consecutiveFailures: 0 };
const STORED: NonNullable<RunEnd["stored"]> = {
  id: "20260601T020000Z-ab12",
  sizes: { local: 1234, s3: 1240 },
};

/** One run of `history`: started at `start`, ended `minutes` later as `end` says. */
function run(
  history: ServiceHistory,
  start: string,
  minutes: number,
  end: Omit<RunEnd, "finished">,
): ServiceHistory {
  const started = new Date(start);
  const finished = new Date(started.getTime() + minutes * 60_000);
  return attemptFinished(attemptStarted(history, "schedule", started), { ...end, finished });
}

Deno.test("attemptStarted records a running attempt and changes nothing else", () => {
  const started = attemptStarted(FRESH, "catch-up", new Date("2026-06-01T02:00:00Z"));
  assert.deepEqual(started, {
    ...FRESH,
    lastAttempt: {
      started: "2026-06-01T02:00:00.000Z",
      trigger: "catch-up",
      outcome: "running",
      pid: Deno.pid,
    },
  });
});

Deno.test("a success sets lastSuccess, resets the failure count and clears staleNotified", () => {
  const before: ServiceHistory = {
    ...FRESH,
    consecutiveFailures: 3,
    lastFailure: { time: "2026-05-31T02:00:00.000Z", error: "disk full" },
    staleNotified: "2026-05-31T12:00:00.000Z",
  };
  const after = run(before, "2026-06-01T02:00:00Z", 2, { outcome: "succeeded", stored: STORED });
  assert.equal(after.consecutiveFailures, 0);
  assert.deepEqual(after.lastSuccess, {
    id: STORED.id,
    sizes: STORED.sizes,
    time: "2026-06-01T02:02:00.000Z",
    durationMs: 120_000,
  });
  assert.equal(after.staleNotified, undefined);
  // The last failure stays on record.
  assert.deepEqual(after.lastFailure, before.lastFailure);
  assert.equal(after.lastRunStarted, "2026-06-01T02:00:00.000Z");
  assert.deepEqual(after.lastAttempt, {
    started: "2026-06-01T02:00:00.000Z",
    finished: "2026-06-01T02:02:00.000Z",
    trigger: "schedule",
    outcome: "succeeded",
    error: undefined,
    durationMs: 120_000,
    pid: Deno.pid,
  });
  assert.equal(after.since, SINCE);
});

Deno.test("failures count up and set lastFailure, keeping the last success", () => {
  const ok = run(FRESH, "2026-06-01T02:00:00Z", 1, { outcome: "succeeded", stored: STORED });
  const once = run(ok, "2026-06-02T02:00:00Z", 1, { outcome: "failed", error: "no route" });
  const twice = run(once, "2026-06-03T02:00:00Z", 3, { outcome: "failed", error: "timed out" });
  assert.equal(once.consecutiveFailures, 1);
  assert.equal(twice.consecutiveFailures, 2);
  assert.deepEqual(twice.lastFailure, { time: "2026-06-03T02:03:00.000Z", error: "timed out" });
  assert.deepEqual(twice.lastSuccess, ok.lastSuccess);
  assert.equal(twice.lastAttempt?.outcome, "failed");
  assert.equal(twice.lastAttempt?.error, "timed out");
  assert.equal(twice.lastRunStarted, "2026-06-03T02:00:00.000Z");
});

Deno.test("a failure keeps staleNotified, so the stale notice is not sent again", () => {
  const stale = { ...FRESH, staleNotified: "2026-06-01T12:00:00.000Z" };
  const after = run(stale, "2026-06-02T02:00:00Z", 1, { outcome: "failed", error: "no route" });
  assert.equal(after.staleNotified, "2026-06-01T12:00:00.000Z");
});

Deno.test("partial: the backup was stored, so lastSuccess is set, yet it counts as a failure", () => {
  const before = { ...FRESH, consecutiveFailures: 1, staleNotified: "2026-06-01T12:00:00.000Z" };
  const after = run(before, "2026-06-02T02:00:00Z", 5, {
    outcome: "partial",
    error: "s3: access denied",
    stored: { id: STORED.id, sizes: { local: 1234 } },
  });
  assert.deepEqual(after.lastSuccess, {
    id: STORED.id,
    sizes: { local: 1234 },
    time: "2026-06-02T02:05:00.000Z",
    durationMs: 300_000,
  });
  assert.equal(after.consecutiveFailures, 2);
  assert.deepEqual(after.lastFailure, {
    time: "2026-06-02T02:05:00.000Z",
    error: "s3: access denied",
  });
  assert.equal(after.staleNotified, undefined);
});

Deno.test("interrupted: no change to lastRunStarted, lastFailure or the failure count", () => {
  const failed = run(FRESH, "2026-06-01T02:00:00Z", 1, { outcome: "failed", error: "no route" });
  const after = run(failed, "2026-06-02T02:00:00Z", 1, {
    outcome: "interrupted",
    error: "stopped by SIGTERM",
  });
  assert.equal(after.lastRunStarted, "2026-06-01T02:00:00.000Z");
  assert.deepEqual(after.lastFailure, failed.lastFailure);
  assert.equal(after.consecutiveFailures, 1);
  assert.equal(after.lastAttempt?.outcome, "interrupted");
  assert.equal(after.lastAttempt?.started, "2026-06-02T02:00:00.000Z");
  // A fresh history stays without a run start.
  const first = run(FRESH, "2026-06-01T02:00:00Z", 1, { outcome: "interrupted" });
  assert.equal(first.lastRunStarted, undefined);
  assert.equal(first.consecutiveFailures, 0);
});

Deno.test("lastRunStarted is the start of the newest attempt that was not interrupted", () => {
  let history = run(FRESH, "2026-06-01T02:00:00Z", 1, { outcome: "succeeded", stored: STORED });
  history = run(history, "2026-06-02T02:00:00Z", 1, { outcome: "interrupted" });
  history = run(history, "2026-06-02T03:00:00Z", 1, { outcome: "interrupted" });
  assert.equal(history.lastRunStarted, "2026-06-01T02:00:00.000Z");
  history = run(history, "2026-06-03T02:00:00Z", 1, { outcome: "failed", error: "x" });
  assert.equal(history.lastRunStarted, "2026-06-03T02:00:00.000Z");
});

Deno.test("an unknown service gets a fresh history, not written yet", async () => {
  await using dir = await tempDir();
  const now = new Date("2026-06-01T12:34:56Z");
  assert.deepEqual(await readHistory(dir.path, "app", now), {
    service: "app",
    since: "2026-06-01T12:34:56.000Z",
    consecutiveFailures: 0,
  });
  assert.equal(await hasHistory(dir.path, "app"), false);
  assert.deepEqual(await entries(dir.path), []);
});

Deno.test("write then read returns the same history, and hasHistory turns true", async () => {
  await using dir = await tempDir();
  const history = run(FRESH, "2026-06-01T02:00:00Z", 2, { outcome: "succeeded", stored: STORED });
  await writeHistory(dir.path, history);
  assert.equal(await hasHistory(dir.path, "app"), true);
  assert.equal(await hasHistory(dir.path, "other"), false);
  // JSON drops the undefined fields; everything else comes back as written.
  assert.deepEqual(await readHistory(dir.path, "app"), JSON.parse(JSON.stringify(history)));
});

Deno.test("writes are atomic: the file is replaced and no temp file is left behind", async () => {
  await using dir = await tempDir();
  const services = `${dir.path}/services`;
  await writeHistory(dir.path, FRESH);
  const first = await Deno.stat(`${services}/app.json`);
  await writeHistory(dir.path, { ...FRESH, consecutiveFailures: 4 });
  const second = await Deno.stat(`${services}/app.json`);
  // Renamed over the old file, not rewritten in place.
  assert.notEqual(second.ino, first.ino);
  assert.equal((second.mode ?? 0) & 0o777, 0o644);
  assert.deepEqual(await entries(services), ["app.json"]);
  assert.equal((await readHistory(dir.path, "app")).consecutiveFailures, 4);
});

Deno.test("updateHistory reads, changes and writes back", async () => {
  await using dir = await tempDir();
  const before = new Date();
  const updated = await updateHistory(
    dir.path,
    "app",
    (history) => attemptStarted(history, "manual", new Date("2026-06-01T02:00:00Z")),
  );
  assert.equal(updated.lastAttempt?.outcome, "running");
  assert.ok(Date.parse(updated.since) >= before.getTime(), "since is not the time of the update");
  assert.deepEqual(await readHistory(dir.path, "app"), updated);
  const finished = await updateHistory(
    dir.path,
    "app",
    (history) =>
      attemptFinished(history, {
        outcome: "failed",
        error: "boom",
        finished: new Date("2026-06-01T02:01:00Z"),
      }),
  );
  assert.equal(finished.since, updated.since);
  assert.equal(finished.lastAttempt?.trigger, "manual");
  assert.equal(finished.lastAttempt?.durationMs, 60_000);
  assert.equal((await readHistory(dir.path, "app")).consecutiveFailures, 1);
});

Deno.test("a damaged history file names the file and says what to do", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/services/app.json`;
  await Deno.mkdir(`${dir.path}/services`);
  const damaged = [
    '{"service": "app", "since": "2026-',
    "",
    "null",
    "[]",
    '{"service": "other", "since": "2026-01-01T00:00:00.000Z", "consecutiveFailures": 0}',
    '{"service": "app"}',
  ];
  for (const text of damaged) {
    await Deno.writeTextFile(path, text);
    await assert.rejects(
      () => readHistory(dir.path, "app"),
      (error: Error) => {
        assert.ok(error instanceof PackratError, `not a PackratError: ${error}`);
        assert.equal(
          error.message,
          `${path} is damaged; move it away and Packrat starts this service's history afresh`,
        );
        return true;
      },
      JSON.stringify(text),
    );
  }
});

Deno.test("a history that cannot be read or written says which file", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/services/app.json`, { recursive: true });
  await assert.rejects(
    () => readHistory(dir.path, "app"),
    (error: Error) =>
      error instanceof PackratError &&
      error.message.startsWith(`cannot read ${dir.path}/services/app.json: `),
  );
  // A state "directory" that is a file.
  const file = `${dir.path}/state`;
  await Deno.writeTextFile(file, "");
  await assert.rejects(
    () => writeHistory(file, FRESH),
    (error: Error) =>
      error instanceof PackratError &&
      error.message.startsWith(`cannot write ${file}/services/app.json: `) &&
      error.message.endsWith("(is the state directory writable?)"),
  );
});
