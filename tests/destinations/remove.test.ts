/**
 * Removing archives and what interrupted uploads left behind, on every destination, against the
 * real servers (local directory, OpenSSH sshd, Ceph radosgw), checked with each server's own
 * view rather than through Packrat.
 */
import assert from "node:assert/strict";
import { CreateMultipartUploadCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import type { Destination } from "../../src/destinations/destination.ts";
import { LocalDestination } from "../../src/destinations/local.ts";
import { S3Destination } from "../../src/destinations/s3.ts";
import { SftpDestination } from "../../src/destinations/sftp.ts";
import { entries, filesUnder, tempDir } from "../helpers.ts";
import {
  listKeys,
  nasDir,
  openUploads,
  putObject,
  s3Client,
  s3DestinationConfig,
  servers,
  synologyDestinationConfig,
  tempBucket,
} from "../remote.ts";

const srv = servers();
const s3 = s3Client(srv);

/** A run that died while writing it: named in `ids`. */
const DEAD = "20260101T000000.000Z";
/** Not in `ids` and older than `olderThan`: an upload nobody will finish. */
const STALE = "20250101T000000.000Z";
/** Not in `ids` and recent: maybe a run still writing it, so it stays. */
const FRESH = "20260102T000000.000Z";
/** A complete archive, old as it may be: never touched. */
const COMPLETE = "20240101T000000.000Z";

const DAY_MS = 24 * 3600_000;
const options = () => ({ ids: new Set([DEAD]), olderThan: new Date(Date.now() - DAY_MS) });

async function withDestination<T>(destination: Destination, use: (d: Destination) => Promise<T>) {
  try {
    return await use(destination);
  } finally {
    await destination.close();
  }
}

// ---- remove is idempotent ----------------------------------------------------------------

async function removeTwice(destination: Destination, isGone: () => Promise<boolean>) {
  await withDestination(destination, async (d) => {
    assert.equal(await isGone(), false, "the archive exists before the first remove");
    await d.remove("h", "svc", COMPLETE);
    assert.equal(await isGone(), true);
    await d.remove("h", "svc", COMPLETE);
    // Nothing stored for this service at all: still done.
    await d.remove("h", "no-such-service", COMPLETE);
  });
}

async function writeArchiveFile(root: string): Promise<string> {
  await Deno.mkdir(`${root}/h/svc`, { recursive: true });
  const path = `${root}/h/svc/${COMPLETE}.packrat`;
  await Deno.writeTextFile(path, "archive");
  return path;
}

const missing = (path: string) => () =>
  Deno.stat(path).then(() => false, (error) => {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  });

Deno.test("local: removing an archive that is already gone succeeds", async () => {
  await using dir = await tempDir();
  const path = await writeArchiveFile(dir.path);
  await removeTwice(new LocalDestination(dir.path), missing(path));
});

Deno.test("synology: removing an archive that is already gone succeeds", async () => {
  await using nas = await nasDir();
  const path = await writeArchiveFile(nas.absolute);
  await removeTwice(
    new SftpDestination(synologyDestinationConfig(srv, nas.relative)),
    missing(path),
  );
});

Deno.test("s3: removing an archive that is already gone succeeds", async () => {
  await using bucket = await tempBucket(s3);
  const key = `packrat/h/svc/${COMPLETE}.packrat`;
  await putObject(s3, bucket.name, key, "archive");
  await removeTwice(
    new S3Destination(s3DestinationConfig(srv, bucket.name)),
    async () => !(await listKeys(s3, bucket.name)).includes(key),
  );
});

// ---- removePartials on local and SFTP ----------------------------------------------------

/**
 * What a directory destination may hold after crashes, relative to its root. `removed` are the
 * names removePartials must delete; everything else must stay.
 */
async function makeLeftovers(root: string): Promise<{ removed: string[]; kept: string[] }> {
  const old = new Date(Date.now() - 3 * DAY_MS);
  const files: [path: string, stale: boolean][] = [
    [`h/svc/.${DEAD}.packrat.partial-0a1b2c3d`, false],
    [`h/svc/.${STALE}.packrat.partial-1b2c3d4e`, true],
    [`h/svc/.${FRESH}.packrat.partial-2c3d4e5f`, false],
    [`h/svc/${COMPLETE}.packrat`, true],
    [`h/svc/${DEAD}.packrat`, false],
    [`h/svc-2/.${DEAD}.packrat.partial-3d4e5f60`, true],
    [`other-host/svc/.${DEAD}.packrat.partial-4e5f6071`, true],
    [`h/svc/.notes.txt.partial-5f607182`, true],
    [`h/svc/.${STALE}.packrat.partial-draft`, true],
    [`h/svc/${STALE}.packrat.partial-60718293`, true],
  ];
  for (const [path, stale] of files) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, "partial");
    if (stale) await Deno.utime(full, old, old);
  }
  const removed = [files[0][0], files[1][0]];
  return { removed, kept: files.map(([p]) => p).filter((p) => !removed.includes(p)) };
}

async function checkRemovePartials(destination: Destination, root: string) {
  const { removed, kept } = await makeLeftovers(root);
  await withDestination(destination, async (d) => {
    const lines = await d.removePartials("h", "svc", options());
    assert.equal(lines.length, 2, lines.join("\n"));
    for (const path of removed) {
      const name = path.split("/").pop()!;
      assert.ok(lines.some((line) => line.includes(name)), `${name} in ${lines.join("\n")}`);
    }
    assert.deepEqual((await filesUnder(root)).sort(), kept.sort());
    assert.deepEqual(await d.removePartials("h", "svc", options()), [], "nothing left to remove");
    assert.deepEqual(await d.removePartials("h", "no-such-service", options()), []);
  });
}

Deno.test("local: removePartials removes dead and stale partial files, nothing else", async () => {
  await using dir = await tempDir();
  await checkRemovePartials(new LocalDestination(dir.path), dir.path);
});

Deno.test("synology: removePartials removes dead and stale partial files, nothing else", async () => {
  await using nas = await nasDir();
  await checkRemovePartials(
    new SftpDestination(synologyDestinationConfig(srv, nas.relative)),
    nas.absolute,
  );
  assert.ok((await entries(`${nas.absolute}/h/svc`)).includes(`${COMPLETE}.packrat`));
});

// ---- removePartials on S3 ----------------------------------------------------------------

/** A multipart upload with one part, never completed: what a killed run leaves on S3. */
async function danglingUpload(bucket: string, key: string): Promise<void> {
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: "part" }),
  );
}

Deno.test("s3: removePartials aborts dead and stale multipart uploads, nothing else", async () => {
  await using bucket = await tempBucket(s3);
  const dead = `packrat/h/svc/${DEAD}.packrat`;
  const fresh = `packrat/h/svc/${FRESH}.packrat`;
  const strangers = [
    `packrat/h/svc-2/${DEAD}.packrat`,
    `packrat/other-host/svc/${DEAD}.packrat`,
    `packrat/h/svc/nested/${DEAD}.packrat`,
    `packrat/h/svc/notes.txt`,
    `elsewhere/h/svc/${DEAD}.packrat`,
  ];
  for (const key of [dead, fresh, ...strangers]) await danglingUpload(bucket.name, key);
  const complete = `packrat/h/svc/${COMPLETE}.packrat`;
  await putObject(s3, bucket.name, complete, "archive");

  // A page size of 2 makes the listing page through the 4 uploads under the service's prefix.
  const destination = new S3Destination(s3DestinationConfig(srv, bucket.name), 2);
  await withDestination(destination, async (d) => {
    const lines = await d.removePartials("h", "svc", options());
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.ok(lines[0].includes(dead), lines[0]);
    assert.deepEqual(await openUploads(s3, bucket.name), [fresh, ...strangers].sort());

    // Uploads started before `olderThan` go whatever their id; radosgw's Initiated cannot be
    // backdated, so move `olderThan` past it instead.
    const later = { ids: new Set<string>(), olderThan: new Date(Date.now() + 3600_000) };
    const stale = await d.removePartials("h", "svc", later);
    assert.equal(stale.length, 1, stale.join("\n"));
    assert.ok(stale[0].includes(fresh), stale[0]);
    assert.deepEqual(await openUploads(s3, bucket.name), [...strangers].sort());
    assert.deepEqual(await d.removePartials("h", "no-such-service", later), []);
  });
  assert.deepEqual(await listKeys(s3, bucket.name), [complete]);
});
