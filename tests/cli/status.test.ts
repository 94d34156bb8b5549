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

Deno.test("status: a scheduled service never run is overdue; so is one whose backups are gone, whatever its history says", async () => {
  await using dir = await tempDir("packrat-status-");
  await Deno.mkdir(`${dir.path}/data`);
  const s = await setup(dir.path, {
    never: { path: `${dir.path}/data`, schedule: "0 2 * * *" },
    gone: { path: `${dir.path}/data`, schedule: "0 2 * * *" },
  });
  // The history remembers a success a minute ago, but no destination holds a backup.
  const minuteAgo = new Date(Date.now() - 60_000).toISOString();
  await writeHistory(`${s.dir}/state`, {
    service: "gone",
    since: new Date(Date.now() - 10 * DAY_MS).toISOString(),
    lastSuccess: {
      id: "20000101T000000.000Z",
      time: minuteAgo,
      durationMs: 1,
      sizes: { local: 1 },
    },
    consecutiveFailures: 0,
  });
  const result = await s.run(["status", "--json"]);
  assert.equal(result.code, 1, show(result));
  const [never, gone] = JSON.parse(result.stdout).services;
  assert.equal(never.overdue, true, "no history and no backup: it never ran");
  assert.equal(gone.overdue, true, "the destinations, not the history, say what exists");
  assert.equal(gone.newest_backup, null);
});

Deno.test("status: a damaged history is reported and does not hide the other services", async () => {
  await using dir = await tempDir("packrat-status-");
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const s = await setup(dir.path, {
    broken: { path: `${dir.path}/data` },
    fine: { path: `${dir.path}/data` },
  });
  assertOk(await s.run(["backup", "fine"]));
  await Deno.mkdir(`${s.dir}/state/services`, { recursive: true });
  await Deno.writeTextFile(`${s.dir}/state/services/broken.json`, "{ torn");
  const result = await s.run(["status", "--json"]);
  assert.equal(result.code, 0, show(result));
  const [broken, fine] = JSON.parse(result.stdout).services;
  assert.match(broken.history_problem, /broken\.json is damaged; move it away/);
  assert.equal(fine.history_problem, null);
  assert.equal(fine.destinations[0].backups, 1);

  // The next backup moves the damaged file aside and starts the history afresh.
  const backup = await s.run(["backup", "broken"]);
  assert.equal(backup.code, 0, show(backup));
  assert.match(backup.stderr, /broken\.json was damaged; moved to .*broken\.json\.damaged/);
  assert.equal(await Deno.readTextFile(`${s.dir}/state/services/broken.json.damaged`), "{ torn");
  const after = JSON.parse((await s.run(["status", "--json"])).stdout).services[0];
  assert.equal(after.history_problem, null);
  assert.equal(after.last_attempt.outcome, "succeeded");
});
