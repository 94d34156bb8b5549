/**
 * Recovery after `kill -9`: what a dead run left in its run record — a staging file, a restore
 * staging directory — is removed by the next run, of any service, with a log line.
 * (Containers: tests/docker/recovery.test.ts; remote uploads: recovery_remote.test.ts.)
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertOk,
  entries,
  exists,
  findArchives,
  killWhen,
  setup,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";

async function sizeOf(dir: string, prefix: string): Promise<number> {
  for (const name of await entries(dir)) {
    if (name.startsWith(prefix)) return (await Deno.stat(`${dir}/${name}`)).size;
  }
  return 0;
}

Deno.test("kill -9 while archiving: the next backup of another service removes the staging file", async () => {
  await using dir = await tempDir();
  const big = `${dir.path}/big`;
  const small = `${dir.path}/small`;
  await Deno.mkdir(big);
  await Deno.mkdir(small);
  await writeRandomFile(`${big}/blob.bin`, 400 * 1024 * 1024);
  await Deno.writeTextFile(`${small}/a.txt`, "a\n");
  const s = await setup(dir.path, { big: { path: big }, small: { path: small } });
  const staging = `${dir.path}/staging`;

  await using run = s.start(["backup", "big"]);
  await killWhen(
    run,
    "the archive to be under way",
    async () => await sizeOf(staging, "packrat-big-") > 0,
  );
  const [orphan] = await entries(staging);
  assert.match(orphan, /^packrat-big-.*\.staging$/);
  const record = JSON.parse(await Deno.readTextFile(`${s.dir}/state/locks/big.json`));
  assert.deepEqual(record.paths, [`${staging}/${orphan}`]);

  const next = assertOk(await s.run(["backup", "small"]));
  assert.match(
    next.stderr,
    new RegExp(`big: removed ${staging}/${orphan}, left by a backup \\(pid ${run.pid},`),
  );
  assert.deepEqual(await entries(staging), [], "the orphan is still in the staging directory");
  assert.equal(await exists(`${s.dir}/state/locks/big.json`), false, "the record stayed");
  assert.deepEqual(await entries(`${s.dest}/testhost/big`), [], "a half-made archive was stored");
  console.log(`  ${next.stderr.trim().split("\n").find((l) => l.includes("removed"))}`);
});

Deno.test("kill -9 while restoring elsewhere: the next run removes the decrypted staging directory", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  for (let i = 0; i < 4; i++) await writeRandomFile(`${data}/part-${i}.bin`, 100 * 1024 * 1024);
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  const target = `${dir.path}/restored`;

  await using run = s.start(["restore", "svc", "--backup", "latest", "--target", target]);
  const stagingDir = async () =>
    (await entries(dir.path)).find((name) => name.startsWith(".restored.packrat-restore-"));
  await killWhen(run, "the restore to write into its staging directory", async () => {
    const name = await stagingDir();
    return name !== undefined && (await entries(`${dir.path}/${name}`)).length > 0;
  });
  const left = `${dir.path}/${await stagingDir()}`;
  assert.equal(await exists(target), false, "the restore got as far as its target");

  const next = assertOk(await s.run(["prune"]));
  assert.match(next.stderr, new RegExp(`removed ${left}, left by a restore \\(pid ${run.pid},`));
  assert.equal(await exists(left), false, "decrypted data left behind");
  assert.deepEqual(
    (await entries(`${s.dir}/state/locks`)).filter((n) => n.startsWith("run-")),
    [],
    "the dead restore's lock and record are still there",
  );
  assert.equal((await findArchives(s.dest, "svc")).length, 1);
});
