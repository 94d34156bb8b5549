import assert from "node:assert/strict";
import { webhook } from "../../src/notify/webhook.ts";
import { listen, refusingPort, runEvent, succeeded } from "./support.ts";

const signal = () => AbortSignal.timeout(5000);

Deno.test("webhook: a failure is POSTed as JSON with every field", async () => {
  await using server = listen();
  await webhook.finished(
    runEvent({ status: "partial", sizes: { local: 1234 }, backupId: "20261130T021500.000Z" }),
    `${server.url}/hooks/packrat`,
    signal(),
  );
  assert.equal(server.received.length, 1);
  const [request] = server.received;
  assert.equal(request.method, "POST");
  assert.equal(request.path, "/hooks/packrat");
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(request.body), {
    service: "gitea",
    host: "myhost",
    status: "partial",
    error: "pre_backup exited with status 1",
    duration_seconds: 4.2,
    sizes: { local: 1234 },
    backup_id: "20261130T021500.000Z",
    time: "2026-11-30T02:15:04.200Z",
  });
});

Deno.test("webhook: absent values are null, not missing", async () => {
  await using server = listen();
  await webhook.finished(
    runEvent({ status: "stale", error: undefined, durationMs: undefined }),
    server.url,
    signal(),
  );
  const body = JSON.parse(server.received[0].body);
  assert.equal(body.status, "stale");
  assert.equal(body.error, null);
  assert.equal(body.duration_seconds, null);
  assert.equal(body.backup_id, null);
  assert.deepEqual(body.sizes, {});
});

Deno.test("webhook: wants every failure, and successes only under on=always", () => {
  for (const status of ["failed", "partial", "stale"] as const) {
    assert.equal(webhook.wants(runEvent({ status }), "failure"), true, status);
    assert.equal(webhook.wants(runEvent({ status }), "always"), true, status);
  }
  assert.equal(webhook.wants(succeeded(), "failure"), false);
  assert.equal(webhook.wants(succeeded(), "always"), true);
});

Deno.test("webhook: a non-2xx answer throws its status", async () => {
  await using server = listen(() => new Response("nope", { status: 403 }));
  await assert.rejects(
    webhook.finished(runEvent(), `${server.url}/hook-t0ken`, signal()),
    (error: Error) => error.message === "HTTP 403",
  );
});

Deno.test("webhook: a refused connection throws without the URL", async () => {
  const url = `http://127.0.0.1:${refusingPort()}/hooks/s3cr3t-t0ken?key=qu3ry-k3y`;
  await assert.rejects(webhook.finished(runEvent(), url, signal()), (error: Error) => {
    assert.match(error.message, /refused/i);
    assert.doesNotMatch(error.message, /s3cr3t-t0ken|qu3ry-k3y|127\.0\.0\.1/);
    assert.equal(error.cause, undefined);
    return true;
  });
});
