/** Restoring a containerised service: its container is stopped for the restore and back after. */
import assert from "node:assert/strict";
import { DockerClient } from "../../src/docker/client.ts";
import { assertOk, setup, tempDir } from "../helpers.ts";
import { container, dockerHost, ticks } from "./support.ts";

Deno.test("restore into the service path stops the container and brings it back healthy", async () => {
  dockerHost();
  await using box = await container(true);
  await using dir = await tempDir();
  using client = new DockerClient();
  await client.waitHealthy(box.name, 30_000);
  const s = await setup(dir.path, {
    svc: { path: box.data, docker: { container: box.name, health_timeout: "30s" } },
  });
  assertOk(await s.run(["backup", "svc"]));
  const startedBefore = (await client.inspect(box.name)).running;
  assert.ok(startedBefore);
  const before = await ticks(box);

  const restored = assertOk(await s.run(["restore", "svc", "--backup", "latest", "--yes"]));
  assert.match(restored.stderr, new RegExp(`stopping container ${box.name}`));
  assert.match(restored.stderr, new RegExp(`container ${box.name} is running and healthy`));
  const after = await client.inspect(box.name);
  assert.ok(after.running);
  assert.equal(after.health, "healthy");
  // The container writes again after the restore (its ticks file was replaced by the backup's).
  const deadline = Date.now() + 10_000;
  while ((await ticks(box)) <= Math.min(before, 1) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok((await ticks(box)) > 0);
});

Deno.test("restore with --target leaves the container running throughout", async () => {
  dockerHost();
  await using box = await container(false);
  await using dir = await tempDir();
  using client = new DockerClient();
  await client.waitRunning(box.name, 30_000);
  const s = await setup(dir.path, { svc: { path: box.data, docker: { container: box.name } } });
  assertOk(await s.run(["backup", "svc"]));
  const started = (await client.inspect(box.name)).running;
  assert.ok(started);
  const restored = assertOk(
    await s.run(["restore", "svc", "--backup", "latest", "--target", `${dir.path}/copy`]),
  );
  assert.doesNotMatch(restored.stderr, /stopping container/);
  assert.ok((await client.inspect(box.name)).running);
});
