/**
 * Notifications from real runs, to a real HTTP listener: the failure webhook with its JSON
 * fields, healthchecks /start and /fail with the error, an ntfy message; only healthchecks hears
 * of a success by default. From the daemon: failures retried with backoff then given up, the
 * stale notification once, and a retry never planned past the next scheduled run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, pollUntil, setup, show, tempDir } from "../helpers.ts";
import { listen, type Received } from "../notify/support.ts";
import { historyOf, ranDaysAgo, startDaemon, waitForLines } from "./support.ts";

const FAILING_HOOK = { command: "echo 'dump failed: disk quota' >&2; exit 3" };

function at(received: readonly Received[], path: string): Received[] {
  return received.filter((r) => r.path === path);
}

Deno.test("notify: a failed backup reaches the webhook, healthchecks and ntfy; a success only healthchecks", async () => {
  await using dir = await tempDir("packrat-notify-");
  await using listener = listen();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const notify = (name: string) => ({
    webhook: { url: `${listener.url}/hook/${name}` },
    ntfy: { url: `${listener.url}/ntfy/${name}` },
    healthchecks: { url: `${listener.url}/hc/${name}` },
  });
  const s = await setup(dir.path, {
    good: { path: `${dir.path}/data`, notify: notify("good") },
    bad: { path: `${dir.path}/data`, pre_backup: FAILING_HOOK, notify: notify("bad") },
  });

  const good = await s.run(["backup", "good"]);
  assert.equal(good.code, 0, show(good));
  assert.deepEqual(
    listener.received.map((r) => `${r.method} ${r.path}`),
    ["GET /hc/good/start", "POST /hc/good"],
    "a success pings healthchecks only",
  );
  assert.match(at(listener.received, "/hc/good")[0].body, /backup \S+ stored on local/);
  listener.received.length = 0;

  const bad = await s.run(["backup", "bad"]);
  assert.equal(bad.code, 1, show(bad));
  assert.deepEqual(
    listener.received.map((r) => `${r.method} ${r.path}`).sort(),
    ["GET /hc/bad/start", "POST /hc/bad/fail", "POST /hook/bad", "POST /ntfy/bad"],
  );
  const [hook] = at(listener.received, "/hook/bad");
  assert.equal(hook.headers.get("content-type"), "application/json");
  const event = JSON.parse(hook.body);
  assert.equal(event.service, "bad");
  assert.equal(event.host, "testhost");
  assert.equal(event.status, "failed");
  assert.equal(event.error, "bad: pre_backup failed (exit 3): dump failed: disk quota");
  assert.equal(typeof event.duration_seconds, "number");
  assert.deepEqual(event.sizes, {});
  assert.equal(event.backup_id, null);
  assert.ok(!Number.isNaN(Date.parse(event.time)));
  assert.match(at(listener.received, "/hc/bad/fail")[0].body, /exit 3\): dump failed: disk quota/);
  const [ntfy] = at(listener.received, "/ntfy/bad");
  assert.equal(ntfy.headers.get("title"), "Packrat: bad failed");
  assert.equal(ntfy.headers.get("priority"), "high");
  assert.match(ntfy.body, /bad on testhost: .*pre_backup/);
});

Deno.test("notify: on: always also reports a success, with its id and size per destination", async () => {
  await using dir = await tempDir("packrat-notify-");
  await using listener = listen();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const s = await setup(dir.path, {
    app: {
      path: `${dir.path}/data`,
      notify: { on: "always", webhook: { url: `${listener.url}/hook` } },
    },
  });
  assertOk(await s.run(["backup", "app"]));
  const [hook] = at(listener.received, "/hook");
  const event = JSON.parse(hook.body);
  assert.equal(event.status, "succeeded");
  assert.equal(event.error, null);
  assert.match(event.backup_id, /^\d{8}T\d{6}\.\d{3}Z$/);
  const { size } = await Deno.stat(`${s.dest}/testhost/app/${event.backup_id}.packrat`);
  assert.deepEqual(event.sizes, { local: size });
});

Deno.test("daemon: a failing run is retried after its wait, then given up; healthchecks hears every try, the webhook the last and the staleness once", async () => {
  await using dir = await tempDir("packrat-notify-");
  await using listener = listen();
  await Deno.mkdir(`${dir.path}/data`);
  const s = await setup(
    dir.path,
    {
      app: {
        path: `${dir.path}/data`,
        schedule: "0 3 * * *",
        pre_backup: FAILING_HOOK,
        notify: {
          webhook: { url: `${listener.url}/hook` },
          healthchecks: { url: `${listener.url}/hc` },
        },
      },
    },
    { retry_after: ["1s", "2s"] },
  );
  // Three days without a backup on a daily schedule: overdue, and due for a catch-up.
  await ranDaysAgo(s, "app", 3);
  await using daemon = await startDaemon(s);
  await waitForLines(daemon, /app: giving up after 3 tries/, 1, 20_000);
  const log = daemon.stderrSoFar();
  assert.match(log, /app: starting catch-up backup\n/);
  assert.match(log, /app: starting retry backup \(try 2\)/);
  assert.match(log, /app: starting retry backup \(try 3\)/);
  const tries = [...log.matchAll(/(\S+Z) app: starting/g)].map((m) => Date.parse(m[1]));
  assert.equal(tries.length, 3, log);
  // Timestamps have whole seconds: the waits are 1 s and 2 s, give or take one.
  assert.ok(tries[1] - tries[0] >= 0 && tries[2] - tries[1] >= 1000, log);
  await waitForLines(daemon, /app: no successful backup since/);
  await pollUntil("the stale notification", () => at(listener.received, "/hook").length >= 2);

  // The stale check may fire between two tries, so the order of the two is not fixed.
  const events = at(listener.received, "/hook").map((r) => JSON.parse(r.body));
  const failed = events.filter((e) => e.status === "failed");
  const stale = events.filter((e) => e.status === "stale");
  assert.equal(failed.length, 1, "one failure notification: the last try's");
  assert.equal(stale.length, 1);
  assert.equal(events.length, 2);
  assert.match(failed[0].error, /exit 3\): dump failed: disk quota/);
  assert.match(stale[0].error, /no successful backup since .*scheduled "0 3 \* \* \*"/);
  const fails = at(listener.received, "/hc/fail").map((r) => r.body);
  assert.equal(fails.length, 3, "healthchecks hears of every try");
  assert.match(fails[0], /trying again at \d{4}-/);
  assert.match(fails[1], /trying again at \d{4}-/);
  assert.doesNotMatch(fails[2], /trying again/);
  assert.equal(at(listener.received, "/hc/start").length, 3);
  const history = await historyOf(s, "app");
  assert.equal(history.consecutiveFailures, 3);
  assert.match(history.lastFailure?.error ?? "", /pre_backup/);
  await pollUntil(
    "staleNotified recorded",
    async () => !!(await historyOf(s, "app")).staleNotified,
  );
  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
});

Deno.test("daemon: no retry is planned past the next scheduled run", async () => {
  await using dir = await tempDir("packrat-notify-");
  await Deno.mkdir(`${dir.path}/data`);
  const s = await setup(
    dir.path,
    { app: { path: `${dir.path}/data`, schedule: "* * * * *", pre_backup: FAILING_HOOK } },
    { retry_after: ["5m"] },
  );
  await ranDaysAgo(s, "app", 1);
  await using daemon = await startDaemon(s);
  await waitForLines(daemon, /app: no retry; the next scheduled run comes first/, 1, 20_000);
  assert.doesNotMatch(daemon.stderrSoFar(), /will try again/);
  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
});
