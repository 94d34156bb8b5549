/**
 * `hosts()` and `services()` on S3 (radosgw, with one-key pages so every listing pages) and
 * SFTP (OpenSSH): the same layout as the local destination's test gives the same answer.
 */
import assert from "node:assert/strict";
import { archiveName, type Destination } from "../../src/destinations/destination.ts";
import { S3Destination } from "../../src/destinations/s3.ts";
import { SftpDestination } from "../../src/destinations/sftp.ts";
import {
  nasDir,
  putObject,
  s3Client,
  s3DestinationConfig,
  servers,
  synologyDestinationConfig,
  tempBucket,
} from "../remote.ts";

const srv = servers();
const s3 = s3Client(srv);
const ID = "20261130T235040.649Z";

/** Relative paths of the layout: what counts (alpha/app, alpha/db, beta/app) and what does not. */
const LAYOUT = [
  `alpha/app/${archiveName(ID)}`,
  `alpha/db/${archiveName(ID)}`,
  `alpha/db/notes.txt`,
  `alpha/@packrat-probe/${archiveName(ID)}`,
  `alpha/uploading/.${archiveName(ID)}.partial-0a1b2c3d`,
  `alpha/.trash/${archiveName(ID)}`,
  `alpha/stranger/notes.txt`,
  `alpha/deeper/sub/${archiveName(ID)}`,
  `alpha/${archiveName(ID)}`,
  `beta/app/${archiveName(ID)}`,
  `.hidden/app/${archiveName(ID)}`,
  `@packrat-probe/app/${archiveName(ID)}`,
];

async function assertLayout(destination: Destination): Promise<void> {
  try {
    assert.deepEqual(await destination.hosts(), ["alpha", "beta"]);
    assert.deepEqual(await destination.services("alpha"), ["app", "db"]);
    assert.deepEqual(await destination.services("beta"), ["app"]);
    assert.deepEqual(await destination.services("nobody"), []);
  } finally {
    await destination.close();
  }
}

Deno.test("s3 hosts() and services(): only prefixes holding complete archives count, across pages", async () => {
  await using bucket = await tempBucket(s3);
  for (const path of LAYOUT) await putObject(s3, bucket.name, `p/${path}`, "x");
  await putObject(s3, bucket.name, "elsewhere/gamma/app/" + archiveName(ID), "x");
  await assertLayout(new S3Destination(s3DestinationConfig(srv, bucket.name, "p/"), 1));
});

Deno.test("s3 hosts(): an empty bucket path has none", async () => {
  await using bucket = await tempBucket(s3);
  const destination = new S3Destination(s3DestinationConfig(srv, bucket.name, "p/"));
  try {
    assert.deepEqual(await destination.hosts(), []);
  } finally {
    await destination.close();
  }
});

Deno.test("sftp hosts() and services(): only directories holding complete archives count", async () => {
  await using nas = await nasDir();
  for (const path of LAYOUT) {
    const file = `${nas.absolute}/${path}`;
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(file, "x");
  }
  await Deno.mkdir(`${nas.absolute}/alpha/empty`);
  await assertLayout(new SftpDestination(synologyDestinationConfig(srv, nas.relative)));
});
