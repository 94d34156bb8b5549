import assert from "node:assert/strict";
import type { NotifyConfig, Secret } from "../../src/config/types.ts";
import { notifierFor } from "../../src/notify/notify.ts";
import { tempDir } from "../helpers.ts";
import { listen, recordingLogger, refusingPort, runEvent, succeeded } from "./support.ts";

const TOKEN = "s3cr3t-t0ken";
const FAST = { retryDelaysMs: [0, 0], timeoutMs: 5000 };

const inline = (value: string, key = "notify.webhook.url"): Secret => ({
  kind: "inline",
  value,
  key,
});

/** A config sending every target to `base`, each under a path of its own. */
function allTargets(base: string, on: NotifyConfig["on"]): NotifyConfig {
  return {
    on,
    webhook: { url: inline(`${base}/hook`) },
    ntfy: { url: inline(`${base}/topic`, "notify.ntfy.url") },
    healthchecks: { url: inline(`${base}/check`, "notify.healthchecks.url") },
  };
}

const paths = (server: { received: { method: string; path: string }[] }) =>
  server.received.map((r) => `${r.method} ${r.path}`).sort();

Deno.test("notify: a success goes to healthchecks only, or to all under on=always", async () => {
  await using server = listen();
  const log = recordingLogger();
  await notifierFor(allTargets(server.url, "failure"), log, FAST).finished(succeeded());
  assert.deepEqual(paths(server), ["POST /check"]);
  server.received.length = 0;
  await notifierFor(allTargets(server.url, "always"), log, FAST).finished(succeeded());
  assert.deepEqual(paths(server), ["POST /check", "POST /hook", "POST /topic"]);
  assert.deepEqual(log.lines, []);
});

Deno.test("notify: a failure reaches every target at once", async () => {
  // Nobody gets an answer until all three asked: one at a time would time out.
  let allArrived!: () => void;
  const arrived = new Promise<void>((resolve) => allArrived = resolve);
  await using server = listen(async () => {
    if (server.received.length === 3) allArrived();
    await arrived;
    return new Response("OK");
  });
  const log = recordingLogger();
  await notifierFor(allTargets(server.url, "failure"), log, { ...FAST, retryDelaysMs: [] })
    .finished(runEvent());
  assert.deepEqual(paths(server), ["POST /check/fail", "POST /hook", "POST /topic"]);
  assert.deepEqual(log.lines, []);
});

Deno.test("notify: a stale check skips healthchecks", async () => {
  await using server = listen();
  const log = recordingLogger();
  await notifierFor(allTargets(server.url, "failure"), log, FAST)
    .finished(runEvent({ status: "stale", durationMs: undefined }));
  assert.deepEqual(paths(server), ["POST /hook", "POST /topic"]);
});

Deno.test("notify: a run's start pings healthchecks only", async () => {
  await using server = listen();
  const log = recordingLogger();
  await notifierFor(allTargets(server.url, "always"), log, FAST).started("gitea");
  assert.deepEqual(paths(server), ["GET /check/start"]);
  assert.deepEqual(log.lines, []);
});

Deno.test("notify: url_file is read at each send, so a rotated URL is used", async () => {
  await using server = listen();
  await using dir = await tempDir();
  const file = `${dir.path}/ntfy-url`;
  const config: NotifyConfig = {
    on: "failure",
    ntfy: { url: { kind: "file", path: file, key: "notify.ntfy.url_file" } },
  };
  const notifier = notifierFor(config, recordingLogger(), FAST);
  await Deno.writeTextFile(file, `${server.url}/first-topic\n`);
  await notifier.finished(runEvent());
  await Deno.writeTextFile(file, `${server.url}/second-topic\n`);
  await notifier.finished(runEvent());
  assert.deepEqual(server.received.map((r) => r.path), ["/first-topic", "/second-topic"]);
});

Deno.test("notify: a missing url_file is logged, not thrown", async () => {
  await using dir = await tempDir();
  const log = recordingLogger();
  const config: NotifyConfig = {
    on: "failure",
    webhook: { url: { kind: "file", path: `${dir.path}/absent`, key: "notify.webhook.url_file" } },
  };
  await notifierFor(config, log, FAST).finished(runEvent());
  assert.deepEqual(log.lines, [
    `warn: gitea: webhook notification failed: notify.webhook.url_file: ` +
    `cannot read ${dir.path}/absent: no such file`,
  ]);
});

Deno.test("notify: a 500 is retried, then logged once without the URL's token", async () => {
  await using server = listen(() => new Response("boom", { status: 500 }));
  const log = recordingLogger();
  const config: NotifyConfig = {
    on: "failure",
    webhook: { url: inline(`${server.url}/hooks/${TOKEN}?token=${TOKEN}`) },
  };
  await notifierFor(config, log, FAST).finished(runEvent());
  assert.equal(server.received.length, 3);
  assert.deepEqual(log.lines, ["warn: gitea: webhook notification failed: HTTP 500"]);
});

Deno.test("notify: a 404 is not retried", async () => {
  await using server = listen(() => new Response("not found", { status: 404 }));
  const log = recordingLogger();
  const config: NotifyConfig = {
    on: "failure",
    healthchecks: { url: inline(`${server.url}/${TOKEN}`, "notify.healthchecks.url") },
  };
  await notifierFor(config, log, FAST).started("gitea");
  assert.equal(server.received.length, 1);
  assert.deepEqual(log.lines, ["warn: gitea: healthchecks start ping failed: HTTP 404"]);
});

Deno.test("notify: a refused connection is logged without the URL's token", async () => {
  const base = `http://127.0.0.1:${refusingPort()}`;
  const log = recordingLogger();
  const config: NotifyConfig = {
    on: "always",
    webhook: { url: inline(`${base}/hooks/${TOKEN}?token=${TOKEN}`) },
    ntfy: { url: inline(`${base}/${TOKEN}`, "notify.ntfy.url") },
    healthchecks: { url: inline(`${base}/${TOKEN}/`, "notify.healthchecks.url") },
  };
  const notifier = notifierFor(config, log, FAST);
  await notifier.started("gitea");
  await notifier.finished(succeeded());
  assert.equal(log.lines.length, 4, log.lines.join("\n"));
  for (const line of log.lines) {
    assert.match(line, /^warn: gitea: \w+ (notification|start ping) failed: .*refused/i);
    assert.ok(!line.includes(TOKEN), line);
    assert.ok(!line.includes(base), line);
  }
});

Deno.test("notify: a target that does not answer times out", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  await using server = listen(async () => {
    await released;
    return new Response("OK");
  });
  const log = recordingLogger();
  const config: NotifyConfig = { on: "failure", ntfy: { url: inline(`${server.url}/${TOKEN}`) } };
  await notifierFor(config, log, { retryDelaysMs: [], timeoutMs: 100 }).finished(runEvent());
  release();
  assert.deepEqual(log.lines, ["warn: gitea: ntfy notification failed: no answer within 0.1 s"]);
});

Deno.test("notify: the notifier never throws", async () => {
  await using dir = await tempDir();
  const log = recordingLogger();
  const config: NotifyConfig = {
    on: "always",
    webhook: { url: inline(`not a url ${TOKEN}`) },
    ntfy: { url: { kind: "file", path: dir.path, key: "notify.ntfy.url_file" } },
    healthchecks: { url: inline(`ftp://example.invalid/${TOKEN}`, "notify.healthchecks.url") },
  };
  const notifier = notifierFor(config, log, FAST);
  await notifier.started("gitea");
  await notifier.finished(succeeded());
  await notifier.finished(runEvent());
  assert.equal(log.lines.length, 7, log.lines.join("\n"));
  assert.ok(log.lines.every((line) => line.startsWith("warn: gitea: ")), log.lines.join("\n"));
  assert.ok(log.lines.every((line) => !line.includes(TOKEN)), log.lines.join("\n"));
});

Deno.test("notify: without a notify setting nothing is sent", async () => {
  const log = recordingLogger();
  const notifier = notifierFor(undefined, log);
  await notifier.started("gitea");
  await notifier.finished(runEvent());
  assert.deepEqual(log.lines, []);
});
