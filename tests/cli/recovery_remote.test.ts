/**
 * `kill -9` during an upload to the NAS (OpenSSH) and to S3 (Ceph radosgw): the dead run's
 * partial file and open multipart upload are removed by the next backup of the service —
 * checked on the servers themselves (the NAS directory, radosgw-admin), not through Packrat.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, entries, killWhen, setup, tempDir, writeRandomFile } from "../helpers.ts";
import {
  listKeys,
  multipartUploads,
  nasDir,
  remoteBackupConfig,
  s3Client,
  servers,
  tempBucket,
} from "../remote.ts";

const srv = servers();
const s3 = s3Client(srv);

/** What radosgw itself holds of unfinished multipart uploads in `bucket` (`_multipart_…`). */
async function radosMultipartEntries(bucket: string): Promise<string[]> {
  const conf = Deno.env.get("CEPH_CONF");
  assert.ok(conf, "CEPH_CONF is not set: run the tests through scripts/test");
  const out = await new Deno.Command("radosgw-admin", {
    args: ["-c", conf, "bucket", "list", `--bucket=${bucket}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(out.code, 0, `radosgw-admin: ${text.decode(out.stderr)}`);
  const listed: { name: string }[] = JSON.parse(text.decode(out.stdout));
  return listed.map((o) => o.name).filter((name) => name.startsWith("_multipart_"));
}

const partials = async (dir: string) =>
  (await entries(dir)).filter((name) => name.includes(".partial-"));

Deno.test("kill -9 mid-upload to SFTP and S3: the next run leaves no partial file and no open multipart upload", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  await using nas = await nasDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/blob.bin`, 300 * 1024 * 1024);
  const s = await setup(
    dir.path,
    { svc: { path: data } },
    remoteBackupConfig(srv, bucket.name, nas.relative),
  );
  const nasService = `${nas.absolute}/testhost/svc`;

  await using run = s.start(["backup", "svc"]);
  await killWhen(
    run,
    "uploads under way on the NAS and on S3",
    async () =>
      (await partials(nasService)).length > 0 && (await multipartUploads(s3, bucket.name)) > 0,
    120_000,
  );
  const leftOnNas = await partials(nasService);
  const leftOnS3 = await radosMultipartEntries(bucket.name);
  assert.equal(leftOnNas.length, 1, `NAS: ${await entries(nasService)}`);
  assert.ok(leftOnS3.length > 0, "radosgw shows no open multipart upload after the kill");
  const record = JSON.parse(await Deno.readTextFile(`${s.dir}/state/locks/svc.json`));
  assert.equal(record.uploads.length, 1, JSON.stringify(record));

  const next = assertOk(await s.run(["backup", "svc"]));
  const id = /svc: backup (\S+)/.exec(next.stdout)![1];
  assert.deepEqual(await partials(nasService), [], `left on the NAS: ${await entries(nasService)}`);
  assert.deepEqual(await radosMultipartEntries(bucket.name), [], "radosgw still holds parts");
  assert.equal(await multipartUploads(s3, bucket.name), 0);
  assert.deepEqual(await entries(nasService), [`${id}.packrat`]);
  assert.deepEqual(await listKeys(s3, bucket.name), [`packrat/testhost/svc/${id}.packrat`]);
  assert.deepEqual(await entries(`${s.dir}/state/locks`), ["svc.lock"], "the record stayed");
  console.log(
    `  left by the kill: NAS ${leftOnNas.join(", ")}, S3 ${leftOnS3.length} multipart entries; ${
      next.stderr.trim().split("\n").filter((l) => /synology|s3/.test(l)).join(" | ")
    }`,
  );
});
