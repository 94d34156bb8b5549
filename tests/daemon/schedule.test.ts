/**
 * When a service runs: cron read in its time zone, across daylight-saving changes, with fixed
 * dates only (nothing here depends on the current time).
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import {
  formatLocal,
  localTimeZone,
  type Schedule,
  scheduleOf,
} from "../../src/daemon/schedule.ts";

const HOUR = 3_600_000;

function schedule(expression: string, timezone?: string): Schedule {
  const found = scheduleOf({ schedule: expression, timezone });
  assert.ok(found, `no schedule for ${expression}`);
  return found;
}

/** The first `count` runs strictly after `after`, as ISO strings. */
function runsAfter(s: Schedule, after: string, count: number): string[] {
  const runs: string[] = [];
  let time = new Date(after);
  for (let i = 0; i < count; i++) {
    const next = s.next(time);
    assert.ok(next, `no run after ${time.toISOString()}`);
    runs.push(next.toISOString());
    time = next;
  }
  return runs;
}

/** Runs `body` with TZ set to `zone` (Deno re-reads it at once), then restores TZ. */
function withMachineZone(zone: string, body: () => void): void {
  const saved = Deno.env.get("TZ");
  Deno.env.set("TZ", zone);
  try {
    body();
  } finally {
    if (saved === undefined) Deno.env.delete("TZ");
    else Deno.env.set("TZ", saved);
  }
}

Deno.test("02:00 in Berlin is 01:00Z in winter and 00:00Z in summer", () => {
  const daily = schedule("0 2 * * *", "Europe/Berlin");
  assert.equal(daily.expression, "0 2 * * *");
  assert.equal(daily.timeZone, "Europe/Berlin");
  assert.equal(
    daily.next(new Date("2026-11-30T12:00:00Z"))?.toISOString(),
    "2026-12-01T01:00:00.000Z",
  );
  assert.equal(
    daily.next(new Date("2026-06-30T12:00:00Z"))?.toISOString(),
    "2026-07-01T00:00:00.000Z",
  );
});

Deno.test("next is strictly after its argument", () => {
  const daily = schedule("0 2 * * *", "Europe/Berlin");
  assert.equal(
    daily.next(new Date("2026-12-01T01:00:00Z"))?.toISOString(),
    "2026-12-02T01:00:00.000Z",
  );
  assert.equal(
    daily.next(new Date("2026-12-01T00:59:59.999Z"))?.toISOString(),
    "2026-12-01T01:00:00.000Z",
  );
});

Deno.test("spring forward: a job in the skipped hour runs once that night, at 03:00 local", () => {
  // 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST, so 02:30 never happens.
  const job = schedule("30 2 * * *", "Europe/Berlin");
  const runs = runsAfter(job, "2026-03-28T12:00:00Z", 3);
  assert.deepEqual(runs, [
    "2026-03-29T01:00:00.000Z",
    "2026-03-30T00:30:00.000Z",
    "2026-03-31T00:30:00.000Z",
  ]);
  assert.equal(runs.filter((run) => run.startsWith("2026-03-29")).length, 1);
  assert.equal(
    job.previous(new Date("2026-03-29T12:00:00Z"))?.toISOString(),
    "2026-03-29T01:00:00.000Z",
  );
});

Deno.test("fall back: a job in the repeated hour runs once, at the first 02:30", () => {
  // 2026-10-25 in Berlin: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice.
  const job = schedule("30 2 * * *", "Europe/Berlin");
  const runs = runsAfter(job, "2026-10-24T12:00:00Z", 3);
  assert.deepEqual(runs, [
    "2026-10-25T00:30:00.000Z",
    "2026-10-26T01:30:00.000Z",
    "2026-10-27T01:30:00.000Z",
  ]);
  assert.ok(!runs.includes("2026-10-25T01:30:00.000Z"), "ran twice in the repeated hour");
  assert.equal(
    job.previous(new Date("2026-10-25T12:00:00Z"))?.toISOString(),
    "2026-10-25T00:30:00.000Z",
  );
});

Deno.test("previous counts a slot exactly at its argument, and only at or before it", () => {
  const daily = schedule("0 2 * * *", "Europe/Berlin");
  assert.equal(
    daily.previous(new Date("2026-12-01T01:00:00Z"))?.toISOString(),
    "2026-12-01T01:00:00.000Z",
  );
  assert.equal(
    daily.previous(new Date("2026-12-01T00:59:59.999Z"))?.toISOString(),
    "2026-11-30T01:00:00.000Z",
  );
  assert.equal(
    daily.previous(new Date("2026-12-01T01:00:00.001Z"))?.toISOString(),
    "2026-12-01T01:00:00.000Z",
  );
});

Deno.test("intervalMs: one minute, a weekend, and a day across daylight-saving changes", () => {
  assert.equal(schedule("* * * * *", "UTC").intervalMs(new Date("2026-06-29T12:00:30Z")), 60_000);
  // Saturday 2026-06-27: Friday 02:00 to Monday 02:00.
  const weekdays = schedule("0 2 * * MON-FRI", "Europe/Berlin");
  assert.equal(weekdays.intervalMs(new Date("2026-06-27T12:00:00Z")), 72 * HOUR);

  const daily = schedule("0 2 * * *", "Europe/Berlin");
  assert.equal(daily.intervalMs(new Date("2026-06-29T12:00:00Z")), 24 * HOUR);
  // The night of 2026-10-25 has 25 hours; the night of 2026-03-29 only 23, yet a day is
  // never measured shorter than 24 hours.
  assert.equal(daily.intervalMs(new Date("2026-10-25T12:00:00Z")), 25 * HOUR);
  assert.ok(daily.intervalMs(new Date("2026-03-29T12:00:00Z")) >= 24 * HOUR);
});

Deno.test("intervalMs at the very moment of a run is still one interval, not two", () => {
  // The daemon wakes at a scheduled time and runs the stale check with that `now`.
  const minutely = schedule("* * * * *", "UTC");
  assert.equal(minutely.intervalMs(new Date("2026-06-29T12:00:00Z")), 60_000);
  const daily = schedule("0 2 * * *", "Europe/Berlin");
  assert.equal(daily.intervalMs(new Date("2026-12-01T01:00:00Z")), 24 * HOUR);
});

Deno.test("a service's own time zone is used; without one, the machine's zone", () => {
  const after = new Date("2026-06-01T00:00:00Z");
  assert.equal(
    schedule("0 2 * * *", "America/New_York").next(after)?.toISOString(),
    "2026-06-01T06:00:00.000Z",
  );
  withMachineZone("Asia/Tokyo", () => {
    assert.equal(localTimeZone(), "Asia/Tokyo");
    const local = schedule("0 2 * * *");
    assert.equal(local.timeZone, "Asia/Tokyo");
    assert.equal(local.next(after)?.toISOString(), "2026-06-01T17:00:00.000Z");
    assert.equal(schedule("0 2 * * *", "Europe/Berlin").timeZone, "Europe/Berlin");
  });
});

Deno.test("backup.timezone from the config reaches the schedule; a service's own zone wins", () => {
  const config = parseConfig(
    `encryption: { key_file: /k }
services:
  inherits: { path: /a, schedule: "0 2 * * *" }
  own: { path: /b, schedule: "0 2 * * *", timezone: America/New_York }
backup:
  timezone: Europe/Berlin
  local: { path: /mnt }
`,
    "packrat.yaml",
    { home: "/home/ann", hostname: "nas1", tmpdir: "/tmp" },
  );
  const after = new Date("2026-11-30T12:00:00Z");
  const [inherits, own] = config.services.map((service) => scheduleOf(service));
  assert.equal(inherits?.next(after)?.toISOString(), "2026-12-01T01:00:00.000Z");
  assert.equal(own?.next(after)?.toISOString(), "2026-12-01T07:00:00.000Z");
});

Deno.test("a service without a schedule has none", () => {
  assert.equal(scheduleOf({}), undefined);
  assert.equal(scheduleOf({ timezone: "Europe/Berlin" }), undefined);
});

Deno.test("formatLocal shows the local time, the zone and UTC", () => {
  assert.equal(
    formatLocal(new Date("2026-12-01T01:00:00Z"), "Europe/Berlin"),
    "2026-12-01 02:00 Europe/Berlin (01:00Z)",
  );
  assert.equal(
    formatLocal(new Date("2026-07-01T00:00:00Z"), "Europe/Berlin"),
    "2026-07-01 02:00 Europe/Berlin (00:00Z)",
  );
  // The local date may be the day before UTC's; midnight is 00, not 24.
  assert.equal(
    formatLocal(new Date("2026-07-01T00:00:00Z"), "America/New_York"),
    "2026-06-30 20:00 America/New_York (00:00Z)",
  );
  assert.equal(
    formatLocal(new Date("2026-01-15T05:07:00Z"), "America/New_York"),
    "2026-01-15 00:07 America/New_York (05:07Z)",
  );
});
