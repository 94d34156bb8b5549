/**
 * `packrat status`: last success and failure, next run and newest backup per destination; exit
 * 1 when a scheduled service has no backup younger than twice its interval, so a monitoring
 * timer can call it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { writeHistory } from "../../src/state/history.ts";
import { assertOk, setup, show, tempDir } from "../helpers.ts";

const DAY_MS = 86_400_000;

Deno.test("status: overdue until a backup is made; failures and manual services shown", async () => {
  await using dir = await tempDir("packrat-status-");
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const s = await setup(dir.path, {
    daily: { path: `${dir.path}/data`, schedule: "0 2 * * *" },
    broken: { path: `${dir.path}/data`, pre_backup: { command: "echo no dump >&2; exit 4" } },
  });
  // Packrat has known the daily service for three days, and it never had a backup.
  await writeHistory(`${s.dir}/state`, {
    service: "daily",
    since: new Date(Date.now() - 3 * DAY_MS).toISOString(),
    consecutiveFailures: 0,
  });

  const overdue = await s.run(["status", "--json"]);
  assert.equal(overdue.code, 1, show(overdue));
  const before = JSON.parse(overdue.stdout);
  assert.equal(before.ok, false);
  const daily = before.services.find((x: { service: string }) => x.service === "daily");
  assert.equal(daily.overdue, true);
  assert.equal(daily.interval_seconds, 86_400);
  assert.equal(daily.last_success, null);
  assert.deepEqual(daily.destinations, [{ name: "local", backups: 0, newest: null, error: null }]);
  const text = await s.run(["status"]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /OVERDUE +no backup yet; expected at least every 1d/);

  assertOk(await s.run(["backup", "daily"]));
  assert.equal((await s.run(["backup", "broken"])).code, 1);

  const fresh = await s.run(["status", "--json"]);
  assert.equal(fresh.code, 0, show(fresh));
  const after = JSON.parse(fresh.stdout);
  assert.equal(after.ok, true);
  const [dailyNow, broken] = after.services;
  assert.equal(dailyNow.overdue, false);
  assert.equal(dailyNow.destinations[0].backups, 1);
  assert.equal(dailyNow.last_success.id, dailyNow.destinations[0].newest.id);
  assert.equal(dailyNow.last_attempt.trigger, "manual");
  // A manual-only service that fails is shown, but it has no schedule to be overdue against.
  assert.equal(broken.schedule, null);
  assert.equal(broken.overdue, false);
  assert.equal(broken.last_failure.error, "broken: pre_backup failed (exit 4): no dump");
  assert.equal(broken.consecutive_failures, 1);

  const shown = await s.run(["status"]);
  assert.equal(shown.code, 0, show(shown));
  assert.match(shown.stdout, /^daily +"0 2 \* \* \*", next run \d{4}-\d\d-\d\d 02:00 /m);
  assert.match(shown.stdout, /last success +\d+s ago, \d{8}T\d{6}\.\d{3}Z, \d+ B on local/);
  assert.match(shown.stdout, /local +1 backup, newest \d+s ago/);
  assert.match(shown.stdout, /^broken +no schedule \(manual only\)/m);
  assert.match(
    shown.stdout,
    /last failure +\d+s ago: broken: pre_backup failed \(exit 4\): no dump/,
  );
});

Deno.test("status: an unreachable destination is shown and a scheduled service with no reachable backup is overdue", async () => {
  await using dir = await tempDir("packrat-status-");
  await Deno.mkdir(`${dir.path}/data`);
  const s = await setup(dir.path, { app: { path: `${dir.path}/data`, schedule: "*/5 * * * *" } });
  await writeHistory(`${s.dir}/state`, {
    service: "app",
    since: new Date(Date.now() - DAY_MS).toISOString(),
    consecutiveFailures: 0,
  });
  await Deno.remove(s.dest, { recursive: true });
  const result = await s.run(["status", "--json"]);
  assert.equal(result.code, 1, show(result));
  const [app] = JSON.parse(result.stdout).services;
  assert.equal(app.destinations[0].backups, null);
  assert.match(app.destinations[0].error, /not available/);
  assert.equal(app.overdue, true);
  assert.equal(app.interval_seconds, 300);
});
