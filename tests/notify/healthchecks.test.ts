import assert from "node:assert/strict";
import { healthchecks, pingUrl } from "../../src/notify/healthchecks.ts";
import { listen, runEvent, succeeded } from "./support.ts";

const UUID = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278";
const signal = () => AbortSignal.timeout(5000);

Deno.test("healthchecks: start, success and failure pings", async () => {
  await using server = listen();
  const url = `${server.url}/${UUID}/`;
  await healthchecks.started!("gitea", url, signal());
  await healthchecks.finished(succeeded(), url, signal());
  await healthchecks.finished(runEvent(), url, signal());
  assert.deepEqual(
    server.received.map((r) => `${r.method} ${r.path}`),
    [`GET /${UUID}/start`, `POST /${UUID}`, `POST /${UUID}/fail`],
  );
  assert.equal(
    server.received[1].body,
    "backup 20261130T021500.000Z stored on local, s3 (12.3 MB) in 4.2 s",
  );
  assert.equal(server.received[2].body, "pre_backup exited with status 1");
});

Deno.test("healthchecks: a partial run is a failure", async () => {
  await using server = listen();
  await healthchecks.finished(
    succeeded({ status: "partial", error: "synology: connection reset" }),
    `${server.url}/${UUID}`,
    signal(),
  );
  assert.equal(server.received[0].path, `/${UUID}/fail`);
  assert.equal(server.received[0].body, "synology: connection reset");
});

Deno.test("healthchecks: a long error is cut to the 100 kB healthchecks keeps", async () => {
  await using server = listen();
  await healthchecks.finished(
    runEvent({ error: "x".repeat(150_000) }),
    `${server.url}/${UUID}`,
    signal(),
  );
  const body = server.received[0].body;
  assert.equal(body.length, 100_000);
  assert.ok(body.endsWith("x\n[truncated]"));
});

Deno.test("healthchecks: wants every run whatever `on` says, but no stale checks", () => {
  for (const on of ["failure", "always"] as const) {
    assert.equal(healthchecks.wants(succeeded(), on), true, on);
    assert.equal(healthchecks.wants(runEvent(), on), true, on);
    assert.equal(healthchecks.wants(runEvent({ status: "partial" }), on), true, on);
    assert.equal(healthchecks.wants(runEvent({ status: "stale" }), on), false, on);
  }
});

Deno.test("healthchecks: the suffix goes before a query, one trailing slash is dropped", () => {
  assert.equal(pingUrl("https://hc-ping.com/abc/", "/fail"), "https://hc-ping.com/abc/fail");
  assert.equal(pingUrl("https://hc-ping.com/abc", ""), "https://hc-ping.com/abc");
  assert.equal(
    pingUrl("https://hc-ping.com/key/db?create=1", "/start"),
    "https://hc-ping.com/key/db/start?create=1",
  );
});
