/**
 * `packrat repair` against real servers: a destination added later (a new S3 bucket on Ceph
 * radosgw) gets the history from the local destination; a backup whose every copy is damaged
 * (local and the NAS over OpenSSH sftp) is reported and left exactly as it was.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, entries, setup, show, tempDir, writeRandomFile } from "../helpers.ts";
import { listKeys, nasDir, remoteBackupConfig, s3Client, servers, tempBucket } from "../remote.ts";

interface Listed {
  id: string;
  destinations: string[];
  verified: Record<string, { time: string; intact: boolean; error: string | null } | null>;
}

async function listed(run: (args: string[]) => Promise<{ code: number; stdout: string }>) {
  const result = await run(["list", "svc", "--json"]);
  assert.equal(result.code, 0, result.stdout);
  return JSON.parse(result.stdout) as Listed[];
}

/** Flips one byte in the middle of a file. */
async function flipByte(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await Deno.writeFile(path, bytes);
}

Deno.test("repair: a destination added later gets all 5 backups, verified on the way", async () => {
  const srv = servers();
  const s3 = s3Client(srv);
  await using dir = await tempDir("packrat-repair-");
  await using bucket = await tempBucket(s3);
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  const local = await setup(dir.path, { svc: { path: data } });
  for (let i = 0; i < 5; i++) {
    await Deno.writeTextFile(`${data}/version.txt`, `backup ${i}\n`);
    await writeRandomFile(`${data}/blob.bin`, 200_000 + i);
    assertOk(await local.run(["backup", "svc"]));
  }
  const before = await listed(local.run);
  assert.equal(before.length, 5);
  assert.ok(before.every((b) => b.destinations.join() === "local"));

  // The config gains an S3 bucket.
  const { s3: s3Config } = remoteBackupConfig(srv, bucket.name, "unused");
  const both = await setup(dir.path, { svc: { path: data } }, { s3: s3Config });

  const dry = await both.run(["repair", "--dry-run"]);
  assert.equal(dry.code, 0, show(dry));
  const planned = [...dry.stdout.matchAll(/svc: would copy (\S+) to s3 from local/g)].map((m) =>
    m[1]
  );
  assert.deepEqual(planned.sort(), before.map((b) => b.id).sort(), show(dry));
  assert.match(dry.stdout, /svc: 5 copies to make \(dry run: nothing changed\)/);
  assert.deepEqual(await listKeys(s3, bucket.name), [], "a dry run stores nothing");

  const repair = await both.run(["repair"]);
  assert.equal(repair.code, 0, show(repair));
  const copied = [...repair.stdout.matchAll(/svc: copied (\S+) to s3 from local/g)].map((m) =>
    m[1]
  );
  assert.deepEqual(copied.sort(), planned.sort(), show(repair));
  assert.match(repair.stdout, /svc: 5 copies made/);
  assert.deepEqual(await entries(`${dir.path}/staging`), [], "nothing is left in staging");

  const after = await listed(both.run);
  assert.equal(after.length, 5);
  for (const backup of after) {
    assert.deepEqual(backup.destinations, ["local", "s3"], backup.id);
    // Every local copy was read through; every new copy read back as sent.
    assert.equal(backup.verified.local?.intact, true, backup.id);
    assert.equal(backup.verified.s3?.intact, true, backup.id);
  }
  const again = await both.run(["repair"]);
  assert.equal(again.code, 0, show(again));
  assert.match(
    again.stdout,
    /svc: nothing to repair; every destination holds an intact copy of all 5 kept backups/,
  );
  // The oldest backup restores from the new bucket alone.
  const restored = `${dir.path}/restored`;
  const restore = await both.run([
    "restore",
    "svc",
    "--backup",
    before[4].id,
    "--from",
    "s3",
    "--target",
    restored,
    "--yes",
  ]);
  assert.equal(restore.code, 0, show(restore));
  assert.equal(await Deno.readTextFile(`${restored}/version.txt`), "backup 0\n");
});

Deno.test("repair: a backup with every copy damaged is reported and left as it is; the others are repaired", async () => {
  const srv = servers();
  await using dir = await tempDir("packrat-repair-lost-");
  await using nas = await nasDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/blob.bin`, 300_000);
  const { synology } = remoteBackupConfig(srv, "unused", nas.relative);
  const both = await setup(dir.path, { svc: { path: data } }, { synology });
  assertOk(await both.run(["backup", "svc"]));
  // A second backup made while the NAS was not configured: it is only on local.
  const localOnly = await setup(dir.path, { svc: { path: data } });
  await Deno.writeTextFile(`${data}/new.txt`, "second\n");
  assertOk(await localOnly.run(["backup", "svc"]));
  await setup(dir.path, { svc: { path: data } }, { synology });

  const rows = await listed(both.run);
  assert.equal(rows.length, 2);
  const [newer, older] = rows;
  assert.deepEqual(older.destinations, ["local", "synology"]);
  assert.deepEqual(newer.destinations, ["local"]);
  const localCopy = `${both.dest}/testhost/svc/${older.id}.packrat`;
  const nasCopy = `${nas.absolute}/testhost/svc/${older.id}.packrat`;
  await flipByte(localCopy);
  await flipByte(nasCopy);
  const localBefore = await Deno.readFile(localCopy);
  const nasBefore = await Deno.readFile(nasCopy);

  const repair = await both.run(["repair", "svc"]);
  assert.equal(repair.code, 7, show(repair));
  assert.match(
    repair.stderr,
    new RegExp(
      `svc: backup ${older.id} has no intact copy to repair from \\(local: damaged.*synology: damaged.*\\); left as it is`,
    ),
  );
  assert.match(repair.stdout, new RegExp(`svc: copied ${newer.id} to synology from local`));
  assert.match(repair.stdout, /svc: 1 copy made, 1 backup beyond repair/);
  assert.deepEqual(await Deno.readFile(localCopy), localBefore, "the local copy is untouched");
  assert.deepEqual(await Deno.readFile(nasCopy), nasBefore, "the NAS copy is untouched");
  const after = await listed(both.run);
  assert.deepEqual(after.find((r) => r.id === older.id)?.destinations, ["local", "synology"]);
  assert.equal(after.find((r) => r.id === older.id)?.verified.local?.intact, false);
  assert.deepEqual(after.find((r) => r.id === newer.id)?.destinations, ["local", "synology"]);
  // status names the damaged copies and exits non-zero.
  const status = await both.run(["status", "svc"]);
  assert.equal(status.code, 1, show(status));
  assert.match(status.stdout, new RegExp(`DAMAGED\\s+local: backup ${older.id}`));
  assert.match(status.stdout, new RegExp(`DAMAGED\\s+synology: backup ${older.id}`));
});

Deno.test("repair: a copy cut short on the first destination is replaced from the intact one on the second", async () => {
  const srv = servers();
  await using dir = await tempDir("packrat-repair-short-");
  await using nas = await nasDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/blob.bin`, 400_000);
  const { synology } = remoteBackupConfig(srv, "unused", nas.relative);
  const s = await setup(dir.path, { svc: { path: data } }, { synology });
  assertOk(await s.run(["backup", "svc"]));
  const [backup] = await listed(s.run);
  const localCopy = `${s.dest}/testhost/svc/${backup.id}.packrat`;
  const intact = await Deno.readFile(`${nas.absolute}/testhost/svc/${backup.id}.packrat`);
  // local comes first in the listing, so the listed size is the short one.
  await Deno.truncate(localCopy, intact.length - 1000);

  const repair = await s.run(["repair", "svc"]);
  assert.equal(repair.code, 0, show(repair));
  assert.match(
    repair.stdout,
    new RegExp(`svc: replaced the damaged copy of ${backup.id} on local from synology`),
  );
  assert.deepEqual(await Deno.readFile(localCopy), intact);
  const [after] = await listed(s.run);
  assert.equal(after.verified.synology?.intact, true, "the intact copy is not called damaged");
  assert.equal(after.verified.local?.intact, true);
});
