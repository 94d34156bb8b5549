/** Retention keeps exactly the newest N of this host's service, and nothing else is touched. */
import assert from "node:assert/strict";
import { assertOk, findArchives, setup, tempDir } from "../helpers.ts";

const idOf = (stdout: string) => /backup (\d{8}T\d{6}\.\d{3}Z)/.exec(stdout)![1];

Deno.test("retain_backups keeps the newest N; git-lfs and other hosts are untouched", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "content");
  const s = await setup(
    dir.path,
    {
      git: { path: `${dir.path}/data`, retain_backups: 2 },
      "git-lfs": { path: `${dir.path}/data` },
    },
    { retain_backups: 3 },
  );
  // Another machine's archives of a service with the same name share the destination.
  const foreign = `${s.dest}/otherhost/git/20200101T000000.000Z.packrat`;
  await Deno.mkdir(`${s.dest}/otherhost/git`, { recursive: true });
  await Deno.writeTextFile(foreign, "not ours");
  // A stranger's file inside our service directory is not an archive and is never deleted.
  await Deno.mkdir(`${s.dest}/testhost/git`, { recursive: true });
  await Deno.writeTextFile(`${s.dest}/testhost/git/notes.txt`, "keep me");

  const gitIds: string[] = [];
  const lfsIds: string[] = [];
  for (let run = 0; run < 4; run++) {
    gitIds.push(idOf(assertOk(await s.run(["backup", "git"])).stdout));
    if (run < 3) lfsIds.push(idOf(assertOk(await s.run(["backup", "git-lfs"])).stdout));
  }
  const names = async (service: string, host?: string) =>
    (await findArchives(s.dest, service, host)).map((p) => p.slice(p.lastIndexOf("/") + 1));
  assert.deepEqual(await names("git"), gitIds.slice(2).map((id) => `${id}.packrat`));
  assert.deepEqual(await names("git-lfs"), lfsIds.map((id) => `${id}.packrat`));
  assert.equal(await Deno.readTextFile(foreign), "not ours");
  assert.equal(await Deno.readTextFile(`${s.dest}/testhost/git/notes.txt`), "keep me");

  // git-lfs falls back to the global default (3) when pruned explicitly: nothing to delete yet.
  const dry = assertOk(await s.run(["prune", "--dry-run"]));
  assert.match(dry.stdout, /git on local: would delete 0/);
  assert.match(dry.stdout, /git-lfs on local: would delete 0/);
  lfsIds.push(idOf(assertOk(await s.run(["backup", "git-lfs"])).stdout));
  assert.deepEqual(await names("git-lfs"), lfsIds.slice(1).map((id) => `${id}.packrat`));
});

Deno.test("prune --dry-run deletes nothing; prune applies a tightened policy", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "content");
  const s = await setup(dir.path, { svc: { path: `${dir.path}/data` } });
  for (let i = 0; i < 3; i++) assertOk(await s.run(["backup", "svc"]));
  const all = await findArchives(s.dest, "svc");
  assert.equal(all.length, 3, "no retention configured: everything is kept");

  const config = JSON.parse(await Deno.readTextFile(s.config));
  config.services.svc.retain = { last: 1 };
  await Deno.writeTextFile(s.config, JSON.stringify(config));
  const dry = assertOk(await s.run(["prune", "svc", "--dry-run"]));
  assert.match(dry.stdout, /svc on local: would delete 2/);
  assert.deepEqual(await findArchives(s.dest, "svc"), all);
  assertOk(await s.run(["prune", "svc"]));
  assert.deepEqual(await findArchives(s.dest, "svc"), all.slice(2));
});
