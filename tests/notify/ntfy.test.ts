import assert from "node:assert/strict";
import { ntfy } from "../../src/notify/ntfy.ts";
import { listen, runEvent, succeeded } from "./support.ts";

const signal = () => AbortSignal.timeout(5000);

Deno.test("ntfy: a failure has a title, high priority and the error in the message", async () => {
  await using server = listen();
  await ntfy.finished(runEvent(), `${server.url}/packrat-alerts`, signal());
  assert.equal(server.received.length, 1);
  const [request] = server.received;
  assert.equal(request.method, "POST");
  assert.equal(request.path, "/packrat-alerts");
  assert.equal(request.headers.get("title"), "Packrat: gitea failed");
  assert.equal(request.headers.get("priority"), "high");
  assert.equal(request.headers.get("tags"), "x");
  assert.equal(request.body, "gitea on myhost: backup failed: pre_backup exited with status 1");
});

Deno.test("ntfy: a success says where the backup went, how big and how long", async () => {
  await using server = listen();
  await ntfy.finished(succeeded(), server.url, signal());
  const [request] = server.received;
  assert.equal(request.headers.get("title"), "Packrat: gitea backed up");
  assert.equal(request.headers.get("priority"), "default");
  assert.equal(request.headers.get("tags"), "white_check_mark");
  assert.equal(
    request.body,
    "gitea on myhost: backup 20261130T021500.000Z stored on local, s3 (12.3 MB) in 4.2 s",
  );
});

Deno.test("ntfy: partial and stale runs are high priority and say what happened", async () => {
  await using server = listen();
  await ntfy.finished(
    succeeded({ status: "partial", sizes: { local: 2_000_000 }, error: "s3: access denied" }),
    server.url,
    signal(),
  );
  await ntfy.finished(
    runEvent({ status: "stale", durationMs: undefined, error: "last backup 3 days ago" }),
    server.url,
    signal(),
  );
  const [partial, stale] = server.received;
  assert.equal(partial.headers.get("title"), "Packrat: gitea backed up in part");
  assert.equal(partial.headers.get("priority"), "high");
  assert.equal(
    partial.body,
    "gitea on myhost: backup 20261130T021500.000Z stored on local (2.00 MB) in 4.2 s, " +
      "but not everywhere: s3: access denied",
  );
  assert.equal(stale.headers.get("title"), "Packrat: gitea backup overdue");
  assert.equal(stale.headers.get("priority"), "high");
  assert.equal(stale.body, "gitea on myhost: backup overdue: last backup 3 days ago");
});

Deno.test("ntfy: headers stay ASCII; the message keeps UTF-8, cut to 4096 bytes", async () => {
  await using server = listen();
  await ntfy.finished(
    runEvent({ service: "gïtea", host: "büro", error: `kaputt ✗ ${"é".repeat(5000)}` }),
    server.url,
    signal(),
  );
  const [request] = server.received;
  assert.equal(request.headers.get("title"), "Packrat: g?tea failed");
  assert.ok(request.body.startsWith("gïtea on büro: backup failed: kaputt ✗ éé"));
  assert.ok(request.body.endsWith("é\n[truncated]"), request.body.slice(-20));
  assert.ok(new TextEncoder().encode(request.body).length <= 4096);
});

Deno.test("ntfy: wants every failure, and successes only under on=always", () => {
  assert.equal(ntfy.wants(runEvent(), "failure"), true);
  assert.equal(ntfy.wants(runEvent({ status: "stale" }), "failure"), true);
  assert.equal(ntfy.wants(succeeded(), "failure"), false);
  assert.equal(ntfy.wants(succeeded(), "always"), true);
});
