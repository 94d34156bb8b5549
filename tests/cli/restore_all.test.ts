/**
 * `restore --all`: the whole machine back with one command — a plan first, one confirmation,
 * every service restored byte for byte from the old host name; one service whose archives are
 * all damaged does not stop the others (exit 6, the summary names it); `--target DIR` rehearses
 * into DIR/<service>; `--dry-run` changes nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertOk,
  assertSameTree,
  findArchives,
  type Setup,
  setup,
  show,
  snapshotTree,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";

/** Three services backed up under the host name "old", then the config renamed to "new". */
async function oldMachine(dir: string): Promise<{ s: Setup; paths: Record<string, string> }> {
  const paths: Record<string, string> = {};
  for (const name of ["alpha", "beta", "gamma"]) {
    paths[name] = `${dir}/srv/${name}`;
    await Deno.mkdir(`${paths[name]}/sub`, { recursive: true });
    await Deno.writeTextFile(`${paths[name]}/sub/${name}.txt`, `${name}\n`);
    await writeRandomFile(`${paths[name]}/blob.bin`, 200_000);
  }
  const s = await setup(
    dir,
    Object.fromEntries(Object.entries(paths).map(([name, path]) => [name, { path }])),
    { host: "old" },
  );
  assertOk(await s.run(["backup", "--all"]));
  const config = JSON.parse(await Deno.readTextFile(s.config));
  config.backup.host = "new";
  await Deno.writeTextFile(s.config, JSON.stringify(config));
  return { s, paths };
}

Deno.test("restore --all --host old: every service back byte for byte, a plan and a summary", async () => {
  await using dir = await tempDir();
  const { s, paths } = await oldMachine(dir.path);
  const before = Object.fromEntries(
    await Promise.all(Object.entries(paths).map(async ([n, p]) => [n, await snapshotTree(p)])),
  );
  // The disk died: the service directories are gone.
  await Deno.remove(`${dir.path}/srv`, { recursive: true });

  const refused = await s.run(["restore", "--all", "--host", "old"]);
  assert.equal(refused.code, 2, show(refused));
  assert.match(refused.stderr, /pass --yes to restore every service/);

  // A service the old machine had and this config no longer names.
  const config = JSON.parse(await Deno.readTextFile(s.config));
  config.services.legacy = { path: `${dir.path}/legacy` };
  config.backup.host = "old";
  await Deno.mkdir(`${dir.path}/legacy`);
  await Deno.writeTextFile(s.config, JSON.stringify(config));
  assertOk(await s.run(["backup", "legacy"]));
  delete config.services.legacy;
  config.backup.host = "new";
  await Deno.writeTextFile(s.config, JSON.stringify(config));

  const dry = await s.run(["restore", "--all", "--host", "old", "--dry-run"]);
  assert.equal(dry.code, 0, show(dry));
  assert.match(
    dry.stdout,
    /Not restored: backups of old that no configured service matches: legacy/,
  );
  assert.match(dry.stdout, /Restore plan for old:/);
  assert.match(
    dry.stdout,
    new RegExp(`alpha +\\d{8}T\\d{6}\\.\\d{3}Z +just now +[\\d.]+ kB +local +${paths.alpha}`),
  );
  assert.match(dry.stdout, /Nothing was changed/);
  assert.equal(await Deno.stat(`${dir.path}/srv`).catch(() => null), null);

  const result = await s.run(["restore", "--all", "--host", "old", "--yes"]);
  assert.equal(result.code, 0, show(result));
  for (const [name, path] of Object.entries(paths)) {
    assertSameTree(await snapshotTree(path), before[name]);
    assert.match(result.stdout, new RegExp(`^ {2}${name} +restored +\\d{8}T`, "m"));
  }
});

Deno.test("restore --all: a service damaged on every destination fails alone — exit 6, named in the summary", async () => {
  await using dir = await tempDir();
  const { s, paths } = await oldMachine(dir.path);
  const [archive] = await findArchives(s.dest, "beta", "old");
  const bytes = await Deno.readFile(archive);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await Deno.writeFile(archive, bytes);
  await Deno.remove(`${dir.path}/srv`, { recursive: true });

  const result = await s.run(["restore", "--all", "--host", "old", "--yes"]);
  assert.equal(result.code, 6, show(result));
  assert.match(result.stdout, /^ {2}beta +FAILED +.*damaged/m);
  assert.match(result.stdout, /^ {2}alpha +restored/m);
  assert.match(result.stdout, /^ {2}gamma +restored/m);
  assert.equal(await Deno.readTextFile(`${paths.alpha}/sub/alpha.txt`), "alpha\n");
  assert.equal(await Deno.readTextFile(`${paths.gamma}/sub/gamma.txt`), "gamma\n");
  assert.equal(await Deno.stat(paths.beta).catch(() => null), null, "nothing half-restored");
});

Deno.test("restore --all --target DIR rehearses into DIR/<service>, leaving the live data alone", async () => {
  await using dir = await tempDir();
  const { s, paths } = await oldMachine(dir.path);
  await Deno.writeTextFile(`${paths.alpha}/sub/alpha.txt`, "changed since\n");
  const rehearsal = `${dir.path}/rehearsal`;
  const result = await s.run(["restore", "--all", "--host", "old", "--target", rehearsal, "--yes"]);
  assert.equal(result.code, 0, show(result));
  for (const name of ["alpha", "beta", "gamma"]) {
    assert.equal(await Deno.readTextFile(`${rehearsal}/${name}/sub/${name}.txt`), `${name}\n`);
  }
  assert.equal(await Deno.readTextFile(`${paths.alpha}/sub/alpha.txt`), "changed since\n");
  const misuse = await s.run(["restore", "alpha", "--all", "--yes"]);
  assert.equal(misuse.code, 2, show(misuse));
});

Deno.test("restore --all --before: per service, the newest backup taken before the time", async () => {
  await using dir = await tempDir();
  const paths = { a: `${dir.path}/a`, b: `${dir.path}/b` };
  for (const path of Object.values(paths)) await Deno.mkdir(path);
  const s = await setup(dir.path, { a: { path: paths.a }, b: { path: paths.b } });
  const backup = async (service: "a" | "b", version: string) => {
    await Deno.writeTextFile(`${paths[service]}/v.txt`, version);
    return /backup (\S+)/.exec(assertOk(await s.run(["backup", service])).stdout)![1];
  };
  await backup("a", "a1");
  await backup("b", "b1");
  const a2 = await backup("a", "a2");
  const b2 = await backup("b", "b2");
  await backup("a", "a3");
  // Just after b's second backup, before a's third: a's newest before it is a2, b's is b2.
  const between = (await s.run(["list", "--json"])).stdout;
  const times = JSON.parse(between).map((r: { id: string; time: string }) => [r.id, r.time]);
  const timeOf = (id: string) => Date.parse(times.find(([i]: string[]) => i === id)[1]);
  const before = new Date(timeOf(b2) + 1).toISOString();
  assert.ok(timeOf(a2) < timeOf(b2));

  const rehearsal = `${dir.path}/rehearsal`;
  const result = await s.run([
    "restore",
    "--all",
    "--before",
    before,
    "--target",
    rehearsal,
    "--yes",
  ]);
  assert.equal(result.code, 0, show(result));
  assert.equal(await Deno.readTextFile(`${rehearsal}/a/v.txt`), "a2");
  assert.equal(await Deno.readTextFile(`${rehearsal}/b/v.txt`), "b2");
  assert.match(result.stdout, new RegExp(`^ {2}a +${a2.replaceAll(".", "\\.")}`, "m"));
});
