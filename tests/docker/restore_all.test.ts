/**
 * Bringing a machine back, against real servers: host A backs up a Docker service and a plain
 * one to S3 (radosgw) and the NAS (sshd); its service directories and key file are lost; `rekey`
 * and `restore --all --host A --from s3` bring every service back byte for byte, the container
 * running and healthy afterwards, with a summary that says so.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DockerClient } from "../../src/docker/client.ts";
import {
  assertOk,
  assertSameTree,
  type NodeInfo,
  PASSWORD,
  setup,
  show,
  snapshotTree,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";
import { nasDir, remoteBackupConfig, s3Client, servers, tempBucket } from "../remote.ts";
import { container, dockerHost } from "./support.ts";

/**
 * The tree without what the test container itself writes when it runs: `ticks`, appended to
 * ten times a second, and `alive`, touched at every start.
 */
async function withoutTicks(path: string): Promise<Map<string, NodeInfo>> {
  const tree = await snapshotTree(path);
  assert.ok(tree.has("alive"), `no ${path}/alive`);
  tree.delete("ticks");
  tree.delete("alive");
  return tree;
}

Deno.test("docker: rekey + restore --all --host A from S3 — every service back, the container healthy", async () => {
  dockerHost();
  const srv = servers();
  using client = new DockerClient();
  await using dir = await tempDir("packrat-recovery-");
  await using bucket = await tempBucket(s3Client(srv));
  await using nas = await nasDir();
  await using c = await container(true);
  await writeRandomFile(`${c.data}/db/data.bin`, 2 * 1024 * 1024).catch(async () => {
    await Deno.mkdir(`${c.data}/db`);
    await writeRandomFile(`${c.data}/db/data.bin`, 2 * 1024 * 1024);
  });
  const notes = `${dir.path}/notes`;
  await Deno.mkdir(`${notes}/2026`, { recursive: true });
  await Deno.writeTextFile(`${notes}/2026/november.md`, "# November\n");
  const s = await setup(
    dir.path,
    {
      app: {
        path: c.data,
        exclude: ["ticks"],
        docker: { container: c.name, stop_timeout: "10s", health_timeout: "30s" },
      },
      notes: { path: notes },
    },
    { host: "host-a", ...remoteBackupConfig(srv, bucket.name, nas.relative) },
  );
  assertOk(await s.run(["backup", "--all"]));
  const before = { app: await withoutTicks(c.data), notes: await snapshotTree(notes) };

  // The disk died: the data and the key file are gone.
  for (const entry of Deno.readDirSync(c.data)) {
    await Deno.remove(`${c.data}/${entry.name}`, { recursive: true });
  }
  await Deno.remove(notes, { recursive: true });
  await Deno.remove(s.keyFile);
  await Deno.writeTextFile(`${dir.path}/password`, `${PASSWORD}\n`);
  assertOk(await s.run(["rekey", "--password-file", `${dir.path}/password`]));

  const result = await s.run(["restore", "--all", "--host", "host-a", "--from", "s3", "--yes"]);
  assert.equal(result.code, 0, show(result));
  assert.match(
    result.stdout,
    /^ {2}app +\d{8}T\S+ +just now +[\d.]+ \w?B +s3 +\S+ +packrat-test-/m,
  );
  assert.match(result.stdout, /^ {2}app +restored +\d{8}T\S+ from s3: /m);
  assert.match(result.stdout, /^ {2}notes +restored +\d{8}T\S+ from s3: /m);
  assertSameTree(await withoutTicks(c.data), before.app);
  assertSameTree(await snapshotTree(notes), before.notes);
  const info = await client.inspect(c.name);
  assert.equal(info.running, true, info.status);
  assert.equal(info.health, "healthy");
});
