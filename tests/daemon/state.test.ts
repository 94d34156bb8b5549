/**
 * The daemon's state under stress: a damaged history does not stop the daemon or the other
 * services; a stale notification that could not be delivered is not marked as sent; histories
 * created by root in a service user's state directory stay writable for that user.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, setup, tempDir } from "../helpers.ts";
import { listen } from "../notify/support.ts";
import { historyOf, ranDaysAgo, startDaemon, waitForLines } from "./support.ts";

Deno.test("daemon: a damaged history is logged; the daemon starts and the other service is caught up", async () => {
  await using dir = await tempDir("packrat-state-");
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const s = await setup(dir.path, {
    broken: { path: `${dir.path}/data`, schedule: "0 3 * * *" },
    fine: { path: `${dir.path}/data`, schedule: "0 3 * * *" },
  });
  await ranDaysAgo(s, "fine", 1.5);
  await Deno.mkdir(`${s.dir}/state/services`, { recursive: true });
  await Deno.writeTextFile(`${s.dir}/state/services/broken.json`, "[]");
  await using daemon = await startDaemon(s);
  assert.match(daemon.stderrSoFar(), /error: broken: .*broken\.json is damaged/);
  assert.match(daemon.stderrSoFar(), /ready: 2 scheduled services, 1 to catch up/);
  await waitForLines(daemon, /fine: backup \S+ stored/);
  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
});

Deno.test("daemon: a stale notification that could not be delivered is not marked as sent", async () => {
  await using dir = await tempDir("packrat-state-");
  await using listener = listen(() => new Response("down", { status: 503 }));
  await Deno.mkdir(`${dir.path}/data`);
  const s = await setup(dir.path, {
    app: {
      path: `${dir.path}/data`,
      schedule: "0 3 * * *",
      catch_up: false,
      notify: { webhook: { url: `${listener.url}/hook/token-123` } },
    },
  });
  await ranDaysAgo(s, "app", 3);
  await using daemon = await startDaemon(s);
  await waitForLines(daemon, /app: webhook notification failed: HTTP 503/, 1, 20_000);
  assert.equal(listener.received.length, 3, "three tries");
  assert.equal((await historyOf(s, "app")).staleNotified, undefined);
  assert.doesNotMatch(daemon.stderrSoFar(), /token-123/);
  daemon.kill("SIGTERM");
  assertOk(await daemon.result);
});

Deno.test("state: root's first history in a service user's state directory stays writable for that user", async () => {
  if (Deno.uid() !== 0) throw new Error("this test needs root (it checks ownership handed over)");
  await using dir = await tempDir("packrat-state-");
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const s = await setup(dir.path, { app: { path: `${dir.path}/data` } });
  await Deno.mkdir(`${s.dir}/state`);
  await Deno.chown(`${s.dir}/state`, 65534, 65534);
  assertOk(await s.run(["backup", "app"]));
  const services = await Deno.stat(`${s.dir}/state/services`);
  assert.equal(services.uid, 65534);
  assert.equal(services.gid, 65534);
});
