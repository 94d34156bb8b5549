/**
 * SIGTERM while the archive is still uploading to S3 (Ceph radosgw) but already stored on the
 * local destination: the run is recorded as interrupted, and its history still knows the backup
 * that exists — id and size on the destination that holds it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { pollWhileRunning, setup, show, tempDir, writeRandomFile } from "../helpers.ts";
import { multipartUploads, remoteBackupConfig, s3Client, servers, tempBucket } from "../remote.ts";
import { historyOf } from "./support.ts";

Deno.test("SIGTERM during the S3 upload, after the local copy: interrupted, and the stored backup is in the history", async () => {
  const srv = servers();
  const s3 = s3Client(srv);
  await using dir = await tempDir("packrat-interrupt-");
  await using bucket = await tempBucket(s3);
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/blob.bin`, 200 * 1024 * 1024);
  const { s3: s3Config } = remoteBackupConfig(srv, bucket.name, "unused");
  const s = await setup(dir.path, { svc: { path: data } }, { s3: s3Config });

  await using run = s.start(["backup", "svc"]);
  await pollWhileRunning(
    run,
    "the S3 upload under way",
    async () => (await multipartUploads(s3, bucket.name)) > 0,
    120_000,
    10,
  );
  run.kill("SIGTERM");
  const result = await run.result;
  assert.equal(result.code, 130, show(result));
  const id = /backup (\S+) was stored on local \(not on s3\)/.exec(result.stderr)?.[1];
  assert.ok(id, show(result));
  const history = await historyOf(s, "svc");
  assert.equal(history.lastAttempt?.outcome, "interrupted");
  assert.equal(history.lastSuccess?.id, id);
  const { size } = await Deno.stat(`${s.dest}/testhost/svc/${id}.packrat`);
  assert.deepEqual(history.lastSuccess?.sizes, { local: size });
  assert.equal(history.consecutiveFailures, 0);
  assert.equal(await multipartUploads(s3, bucket.name), 0, "the S3 upload was aborted");
});
