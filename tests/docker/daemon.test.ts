/**
 * The daemon and containers, against a real dockerd: SIGTERM during a scheduled backup starts
 * the container again, leaves no staging file, records the interrupted run and exits 0 well
 * within systemd's stop timeout; after a kill -9 of the daemon, the next daemon start brings
 * the container back.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DockerClient } from "../../src/docker/client.ts";
import {
  entries,
  killWhen,
  pollWhileRunning,
  setup,
  show,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";
import { historyOf, ranDaysAgo, startDaemon, waitForLines } from "../daemon/support.ts";
import { container, dockerHost, stagedBytes } from "./support.ts";

const MB = 1024 * 1024;

async function scheduledDockerService(dir: string, data: string, name: string) {
  const s = await setup(dir, {
    app: {
      path: data,
      schedule: "0 3 * * *",
      docker: { container: name, stop_timeout: "10s", health_timeout: "30s" },
    },
  });
  // The daily run was missed: the daemon starts it within seconds, a scheduled run like any.
  await ranDaysAgo(s, "app", 1.5);
  return s;
}

Deno.test("docker: SIGTERM to the daemon mid-backup — container running, no staging, exit 0 fast, run recorded", async () => {
  dockerHost();
  using client = new DockerClient();
  await using dir = await tempDir("packrat-docker-daemon-");
  await using c = await container(true);
  await writeRandomFile(`${c.data}/big.bin`, 150 * MB);
  const s = await scheduledDockerService(dir.path, c.data, c.name);
  const staging = `${dir.path}/staging`;

  await using daemon = await startDaemon(s);
  await pollWhileRunning(
    daemon,
    "the archive under way with the container stopped",
    async () => await stagedBytes(staging) > 16 * MB && !(await client.inspect(c.name)).running,
    60_000,
    5,
  );
  const stopped = performance.now();
  daemon.kill("SIGTERM");
  const result = await daemon.result;
  const seconds = (performance.now() - stopped) / 1000;
  assert.equal(result.code, 0, show(result));
  assert.ok(seconds < 30, `stopped after ${seconds.toFixed(1)} s`);
  const info = await client.inspect(c.name);
  assert.equal(info.running, true, `container ${info.status}`);
  assert.equal(info.health, "healthy");
  assert.deepEqual(await entries(staging), []);
  const history = await historyOf(s, "app");
  assert.equal(history.lastAttempt?.outcome, "interrupted");
  assert.match(history.lastAttempt?.error ?? "", /interrupted by SIGTERM/);
  assert.match(result.stderr, /SIGTERM: stopping; no new runs, cleaning up running ones/);
  console.log(`  daemon stopped ${seconds.toFixed(1)} s after SIGTERM`);
});

Deno.test("docker: kill -9 of the daemon with the container stopped; the next daemon start brings it back", async () => {
  dockerHost();
  using client = new DockerClient();
  await using dir = await tempDir("packrat-docker-daemon-");
  await using c = await container(false);
  await writeRandomFile(`${c.data}/big.bin`, 150 * MB);
  const s = await scheduledDockerService(dir.path, c.data, c.name);
  const staging = `${dir.path}/staging`;

  const first = await startDaemon(s);
  await killWhen(
    first,
    "the archive under way with the container stopped",
    async () => await stagedBytes(staging) > 16 * MB && !(await client.inspect(c.name)).running,
  );
  assert.equal((await client.inspect(c.name)).running, false);

  await using second = await startDaemon(s);
  // Recovery runs before the daemon is ready: the container is up by then.
  assert.match(
    second.stderrSoFar(),
    new RegExp(`app: starting container ${c.name}, left stopped by a backup \\(pid ${first.pid},`),
  );
  assert.match(second.stderrSoFar(), /app: the run started .* died before it ended/);
  assert.equal((await client.inspect(c.name)).running, true);
  // The missed run is caught up, and this time it finishes.
  await waitForLines(second, /app: backup \S+ stored on local/, 1, 120_000);
  assert.equal((await client.inspect(c.name)).running, true);
  assert.deepEqual(await entries(staging), []);
  second.kill("SIGTERM");
  assert.equal((await second.result).code, 0);
});
