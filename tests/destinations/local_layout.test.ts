/**
 * `hosts()` and `services()` of the local destination: what counts as a host and a service,
 * and what never does (Packrat's probe, partial uploads, hidden and stray names).
 */
import assert from "node:assert/strict";
import { archiveName, partialName } from "../../src/destinations/destination.ts";
import { LocalDestination } from "../../src/destinations/local.ts";
import { DestinationError } from "../../src/errors.ts";
import { tempDir } from "../helpers.ts";

const ID = "20261130T235040.649Z";

async function file(path: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, "x");
}

Deno.test("local hosts() and services(): only directories holding complete archives count", async () => {
  await using dir = await tempDir();
  const root = dir.path;
  await file(`${root}/alpha/app/${archiveName(ID)}`);
  await file(`${root}/alpha/db/${archiveName(ID)}`);
  await file(`${root}/alpha/db/${partialName("20261201T000000.000Z")}`);
  await file(`${root}/alpha/@packrat-probe/${archiveName(ID)}`);
  await file(`${root}/alpha/uploading/${partialName(ID)}`);
  await file(`${root}/alpha/.trash/${archiveName(ID)}`);
  await file(`${root}/alpha/stranger/notes.txt`);
  await file(`${root}/alpha/deeper/sub/${archiveName(ID)}`);
  await Deno.mkdir(`${root}/alpha/empty`);
  await file(`${root}/alpha/${archiveName(ID)}`);
  await file(`${root}/beta/app/${archiveName(ID)}`);
  await file(`${root}/.hidden/app/${archiveName(ID)}`);
  await file(`${root}/@packrat-probe/app/${archiveName(ID)}`);
  await file(`${root}/README`);

  const local = new LocalDestination(root);
  assert.deepEqual(await local.hosts(), ["alpha", "beta"]);
  assert.deepEqual(await local.services("alpha"), ["app", "db"]);
  assert.deepEqual(await local.services("beta"), ["app"]);
  assert.deepEqual(await local.services("nobody"), []);
});

Deno.test("local hosts(): an empty destination has none", async () => {
  await using dir = await tempDir();
  assert.deepEqual(await new LocalDestination(dir.path).hosts(), []);
});

Deno.test("local hosts() and services(): a destination directory that is gone is a permanent error", async () => {
  await using dir = await tempDir();
  const local = new LocalDestination(`${dir.path}/unmounted`);
  for (const listing of [local.hosts(), local.services("alpha")]) {
    await assert.rejects(listing, (error: unknown) => {
      assert.ok(error instanceof DestinationError, String(error));
      assert.ok(error.permanent);
      assert.match(error.message, /^local: .*unmounted/);
      return true;
    });
  }
});
