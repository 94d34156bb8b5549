/**
 * Restoring from another point in time and another host name: `--before` picks the newest
 * backup taken before a time, `--host` reads the backups a machine made under its old name.
 *
 * @module
 */
import assert from "node:assert/strict";
import { timeOfId } from "../../src/catalog/id.ts";
import { parseBefore } from "../../src/restore/when.ts";
import { UsageError } from "../../src/errors.ts";
import { assertOk, setup, show, tempDir } from "../helpers.ts";

Deno.test("parseBefore: ISO times and dates (local), ages; anything else is a usage error", () => {
  const now = new Date("2026-11-30T12:00:00Z");
  assert.equal(parseBefore("3 days ago", now).toISOString(), "2026-11-27T12:00:00.000Z");
  assert.equal(parseBefore("1 hour ago", now).toISOString(), "2026-11-30T11:00:00.000Z");
  assert.equal(parseBefore("90 minutes ago", now).toISOString(), "2026-11-30T10:30:00.000Z");
  assert.equal(parseBefore("2 weeks ago", now).toISOString(), "2026-11-16T12:00:00.000Z");
  assert.equal(parseBefore("2026-11-28T03:00Z").toISOString(), "2026-11-28T03:00:00.000Z");
  assert.equal(parseBefore("2026-11-28T03:00+01:00").toISOString(), "2026-11-28T02:00:00.000Z");
  assert.equal(parseBefore("2026-11-28").getTime(), new Date(2026, 10, 28).getTime());
  for (const bad of ["yesterday", "2026-02-30", "3 fortnights ago", "28.11.2026", ""]) {
    assert.throws(() => parseBefore(bad, now), UsageError, bad);
  }
});

Deno.test("restore --before: the newest backup before the time; none before it is a clear error", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  const s = await setup(dir.path, { svc: { path: data } });
  const ids: string[] = [];
  for (const version of ["first", "second", "third"]) {
    await Deno.writeTextFile(`${data}/version.txt`, version);
    ids.push(/backup (\S+)/.exec(assertOk(await s.run(["backup", "svc"])).stdout)![1]);
  }
  const target = `${dir.path}/restored`;
  // Just before the third backup: the second is the newest before it. No --backup needed.
  const before = new Date(timeOfId(ids[2]).getTime() - 1).toISOString();
  const result = await s.run(["restore", "svc", "--before", before, "--target", target, "--yes"]);
  assert.equal(result.code, 0, show(result));
  assert.match(result.stdout, new RegExp(`restored ${ids[1].replaceAll(".", "\\.")}`));
  assert.equal(await Deno.readTextFile(`${target}/version.txt`), "second");

  const tooEarly = await s.run([
    "restore",
    "svc",
    "--before",
    timeOfId(ids[0]).toISOString(),
    "--target",
    `${dir.path}/nothing`,
    "--yes",
  ]);
  assert.equal(tooEarly.code, 1, show(tooEarly));
  assert.match(tooEarly.stderr, new RegExp(`no backup of svc before .*; the oldest is ${ids[0]}`));
  const bad = await s.run(["restore", "svc", "--before", "last tuesday", "--yes"]);
  assert.equal(bad.code, 2, show(bad));
  assert.match(bad.stderr, /--before "last tuesday" is not a time/);
});

Deno.test("restore --host: a reinstalled machine with a new name restores what the old name stored", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/notes.txt`, "from the old machine\n");
  const old = await setup(dir.path, { svc: { path: data } }, { host: "old-name" });
  assertOk(await old.run(["backup", "svc"]));

  // The same destination, a new host name.
  const config = JSON.parse(await Deno.readTextFile(old.config));
  config.backup.host = "new-name";
  await Deno.writeTextFile(old.config, JSON.stringify(config));
  const target = `${dir.path}/restored`;
  const missing = await old.run(["restore", "svc", "--backup", "latest", "--target", target]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /svc has no backups yet/);
  const result = await old.run([
    "restore",
    "svc",
    "--host",
    "old-name",
    "--backup",
    "latest",
    "--target",
    target,
    "--yes",
  ]);
  assert.equal(result.code, 0, show(result));
  assert.equal(await Deno.readTextFile(`${target}/notes.txt`), "from the old machine\n");
  const badHost = await old.run(["restore", "svc", "--host", "../etc", "--backup", "latest"]);
  assert.equal(badHost.code, 2, show(badHost));
});
