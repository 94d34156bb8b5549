/**
 * `verify` is how users find damage: a damaged copy fails it (exit 7, naming the copy) even
 * when another copy is intact; `--all-copies` reads every destination; a destination that
 * cannot be reached says so instead of "does not hold". Local + S3 (Ceph radosgw) + SFTP.
 *
 * @module
 */
import assert from "node:assert/strict";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assertOk, findArchives, setup, show, tempDir } from "../helpers.ts";
import { remoteBackupConfig, s3Client, servers, tempBucket } from "../remote.ts";

const srv = servers();
const s3 = s3Client(srv);

function flipMiddleByte(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy[Math.floor(copy.length / 2)] ^= 0x01;
  return copy;
}

async function withLocalAndS3(dir: string, bucket: string) {
  const data = `${dir}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/notes.txt`, "verify me\n".repeat(50_000));
  const s = await setup(
    dir,
    { svc: { path: data } },
    { ...remoteBackupConfig(srv, bucket, "unused"), synology: undefined },
  );
  const out = assertOk(await s.run(["backup", "svc"]));
  const id = /svc: backup (\S+)/.exec(out.stdout)![1];
  return { s, id, key: `packrat/testhost/svc/${id}.packrat` };
}

Deno.test("verify: the local copy damaged, the S3 copy intact: exit 7 naming local", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  const { s, id } = await withLocalAndS3(dir.path, bucket.name);
  const [local] = await findArchives(s.dest, "svc");
  await Deno.writeFile(local, flipMiddleByte(await Deno.readFile(local)));

  const result = await s.run(["verify", "svc"]);
  assert.equal(result.code, 7, show(result));
  assert.match(result.stderr, new RegExp(`svc: backup ${id} on local is damaged`));
  assert.match(result.stdout, new RegExp(`svc: backup ${id} on s3 is intact`));
  assert.match(result.stderr, /use the intact copy: --from s3/);
  console.log(`  ${result.stderr.trim().split("\n").join(" | ")}`);

  const all = await s.run(["verify", "svc", "--all-copies"]);
  assert.equal(all.code, 7, show(all));
  assert.match(all.stderr, /on local is damaged/);
  assertOk(await s.run(["verify", "svc", "--from", "s3"]));
});

Deno.test("verify: only the second copy damaged: found by --all-copies, not by the default one-copy check", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  const { s, id, key } = await withLocalAndS3(dir.path, bucket.name);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
  const body = flipMiddleByte(await object.Body!.transformToByteArray());
  await s3.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: body }));

  const first = assertOk(await s.run(["verify", "svc"]));
  assert.match(first.stdout, new RegExp(`backup ${id} on local is intact`));
  assert.doesNotMatch(first.stdout + first.stderr, /on s3/, "the default reads one copy");

  const all = await s.run(["verify", "svc", "--all-copies"]);
  assert.equal(all.code, 7, show(all));
  assert.match(all.stdout, new RegExp(`backup ${id} on local is intact`));
  assert.match(all.stderr, new RegExp(`backup ${id} on s3 is damaged`));
});

Deno.test("verify and restore: an unreachable destination is called unreachable, not empty", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/a.txt`, "a\n");
  const closed = {
    ...remoteBackupConfig(srv, "unused", "unused").synology as Record<string, unknown>,
    port: 1,
  };
  const s = await setup(dir.path, { svc: { path: data } }, { synology: closed });
  assert.equal((await s.run(["backup", "svc"])).code, 6, "local only: partial success");

  for (
    const args of [["verify", "svc", "--from", "synology"], [
      "restore",
      "svc",
      "--backup",
      "latest",
      "--from",
      "synology",
      "--target",
      `${dir.path}/r`,
    ]]
  ) {
    const result = await s.run(args);
    assert.equal(result.code, 5, `${args.join(" ")}: ${show(result)}`);
    assert.match(result.stderr, /synology: unreachable, so backup/);
    assert.doesNotMatch(result.stderr, /does not hold/);
  }
  const all = await s.run(["verify", "svc", "--all-copies"]);
  assert.equal(all.code, 5, show(all));
  assert.match(all.stdout, /on local is intact/);
  assert.match(all.stderr, /svc: synology is unreachable/);
});
