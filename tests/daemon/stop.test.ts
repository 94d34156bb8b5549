/**
 * Stopping the daemon mid-run without Docker: SIGTERM during a pre_backup hook ends the hook, is
 * recorded as an interruption (not a failure: nothing is notified, the failure count stays), the
 * daemon exits 0 at once, and its next start catches the run up.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, entries, setup, show, tempDir } from "../helpers.ts";
import { listen } from "../notify/support.ts";
import { historyOf, ranDaysAgo, startDaemon, waitForLines } from "./support.ts";

Deno.test("daemon: SIGTERM during pre_backup is an interruption, not a failure, and is caught up", async () => {
  await using dir = await tempDir("packrat-stop-");
  await using listener = listen();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const gate = `${dir.path}/gate`;
  const s = await setup(dir.path, {
    app: {
      path: `${dir.path}/data`,
      schedule: "0 3 * * *",
      // Waits for the gate; the second run finds it open.
      pre_backup: { command: `echo dumping; while [ ! -e '${gate}' ]; do sleep 0.1; done` },
      notify: {
        webhook: { url: `${listener.url}/hook` },
        healthchecks: { url: `${listener.url}/hc` },
      },
    },
  });
  await ranDaysAgo(s, "app", 1.5);

  const first = await startDaemon(s);
  await waitForLines(first, /app: pre_backup: dumping/);
  const stopping = performance.now();
  first.kill("SIGTERM");
  const result = await first.result;
  const seconds = (performance.now() - stopping) / 1000;
  assert.equal(result.code, 0, show(result));
  assert.ok(seconds < 10, `stopped after ${seconds.toFixed(1)} s`);
  const history = await historyOf(s, "app");
  assert.equal(history.lastAttempt?.outcome, "interrupted", JSON.stringify(history));
  assert.equal(history.consecutiveFailures, 0);
  assert.equal(history.lastFailure, undefined);
  assert.deepEqual(
    listener.received.map((r) => r.path),
    ["/hc/start"],
    "an interruption is nobody's failure: only the start ping went out",
  );
  assert.deepEqual(await entries(`${dir.path}/staging`).catch(() => []), []);

  await Deno.writeTextFile(gate, "");
  await using second = await startDaemon(s);
  assert.match(second.stderrSoFar(), /1 to catch up/);
  await waitForLines(second, /app: backup \S+ stored on local/);
  second.kill("SIGTERM");
  assertOk(await second.result);
});
