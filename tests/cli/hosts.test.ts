/**
 * The fleet view against the real servers: two machines (two `backup.host` names) share one
 * local directory, S3 bucket and NAS; `hosts` and `list --all-hosts` show both, each service's
 * newest backup and age, services one host alone has, and services the config no longer names.
 */
import assert from "node:assert/strict";
import { newBackupId, timeOfId } from "../../src/catalog/id.ts";
import { assertOk, permissionsAfter, type Setup, setup, tempDir } from "../helpers.ts";
import { nasDir, remoteBackupConfig, s3Client, servers, tempBucket } from "../remote.ts";

const srv = servers();
const s3 = s3Client(srv);
const idOf = (stdout: string) => /backup (\d{8}T\d{6}\.\d{3}Z)/.exec(stdout)![1];
const ALL = ["local", "s3", "synology"];

interface HostJson {
  host: string;
  services: {
    service: string;
    newest: { id: string; time: string; size: number } | null;
    backups: number;
    in_config: boolean;
    destinations: string[];
  }[];
  size: number;
}

interface RowJson {
  host: string;
  service: string;
  id: string;
  time: string;
  size: number;
  destinations: string[];
  in_config: boolean;
}

Deno.test("two hosts sharing local, S3 and NAS: hosts and list --all-hosts show both, with newest ids, ages, sizes and services not in config", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  await using nas = await nasDir();
  const shared = {
    local: { path: `${dir.path}/shared` },
    ...remoteBackupConfig(srv, bucket.name, nas.relative),
  };
  await Deno.mkdir(`${dir.path}/shared`);
  const services: Record<string, Record<string, unknown>> = {};
  for (const name of ["app", "db", "solo", "legacy"]) {
    await Deno.mkdir(`${dir.path}/data/${name}`, { recursive: true });
    await Deno.writeTextFile(`${dir.path}/data/${name}/f`, `${name}\n`.repeat(100));
    services[name] = { path: `${dir.path}/data/${name}` };
  }
  const { legacy, ...current } = services;
  const machine = async (name: string, host: string, withServices: typeof services) => {
    await Deno.mkdir(`${dir.path}/${name}`);
    return await setup(`${dir.path}/${name}`, withServices, { host, ...shared });
  };
  const alpha = await machine("alpha", "alpha", current);
  const beta = await machine("beta", "beta", current);
  // The same machine before `legacy` was renamed away from its config.
  const alphaBefore = await machine("alpha-before", "alpha", { ...current, legacy });

  const start = Date.now();
  const backup = async (s: Setup, host: string, service: string) => {
    const id = idOf(assertOk(await s.run(["backup", service])).stdout);
    return {
      id,
      size: (await Deno.stat(`${dir.path}/shared/${host}/${service}/${id}.packrat`)).size,
    };
  };
  const alphaLegacy = await backup(alphaBefore, "alpha", "legacy");
  const alphaAppOld = await backup(alpha, "alpha", "app");
  const alphaApp = await backup(alpha, "alpha", "app");
  const alphaDb = await backup(alpha, "alpha", "db");
  const alphaSolo = await backup(alpha, "alpha", "solo");
  const betaApp = await backup(beta, "beta", "app");
  const betaDb = await backup(beta, "beta", "db");
  const end = Date.now();
  assert.notEqual(alphaApp.id, alphaAppOld.id);

  const hosts: HostJson[] = JSON.parse(assertOk(await beta.run(["hosts", "--json"])).stdout);
  assert.deepEqual(hosts.map((h) => h.host), ["alpha", "beta"]);
  const [alphaHost, betaHost] = hosts;
  const newest = (b: { id: string; size: number }) => ({
    id: b.id,
    time: timeOfId(b.id).toISOString(),
    size: b.size,
  });
  assert.deepEqual(alphaHost.services, [
    { service: "app", newest: newest(alphaApp), backups: 2, in_config: true, destinations: ALL },
    { service: "db", newest: newest(alphaDb), backups: 1, in_config: true, destinations: ALL },
    {
      service: "legacy",
      newest: newest(alphaLegacy),
      backups: 1,
      in_config: false,
      destinations: ALL,
    },
    { service: "solo", newest: newest(alphaSolo), backups: 1, in_config: true, destinations: ALL },
  ]);
  assert.equal(
    alphaHost.size,
    alphaLegacy.size + alphaAppOld.size + alphaApp.size + alphaDb.size + alphaSolo.size,
  );
  // This host's configured service without a backup is listed; another host's is not invented.
  assert.deepEqual(betaHost.services, [
    { service: "app", newest: newest(betaApp), backups: 1, in_config: true, destinations: ALL },
    { service: "db", newest: newest(betaDb), backups: 1, in_config: true, destinations: ALL },
    { service: "solo", newest: null, backups: 0, in_config: true, destinations: [] },
  ]);
  assert.equal(betaHost.size, betaApp.size + betaDb.size);
  // Ages: each newest backup was taken during this test.
  for (const s of [...alphaHost.services, ...betaHost.services]) {
    if (!s.newest) continue;
    const time = Date.parse(s.newest.time);
    assert.ok(time >= start - 1000 && time <= end, `${s.service}: ${s.newest.time}`);
  }

  const rows: RowJson[] = JSON.parse(
    assertOk(await beta.run(["list", "--all-hosts", "--json"])).stdout,
  );
  const row = (host: string, service: string, b: { id: string; size: number }) => ({
    service,
    id: b.id,
    time: timeOfId(b.id).toISOString(),
    size: b.size,
    destinations: ALL,
    host,
    in_config: service !== "legacy",
  });
  assert.deepEqual(rows, [
    row("alpha", "app", alphaApp),
    row("alpha", "app", alphaAppOld),
    row("alpha", "db", alphaDb),
    row("alpha", "legacy", alphaLegacy),
    row("alpha", "solo", alphaSolo),
    row("beta", "app", betaApp),
    row("beta", "db", betaDb),
  ]);
  // The fields of `list --json` are the same; it adds what the headers say and what verifies
  // found (nothing was verified here), --all-hosts adds in_config.
  const own = JSON.parse(assertOk(await beta.run(["list", "--json"])).stdout);
  assert.deepEqual(
    own.map((
      { source_path: _, packrat_version: __, verified: ___, ...rest }: Record<string, unknown>,
    ) => rest),
    rows.filter((r) => r.host === "beta").map(({ in_config: _, ...rest }) => rest),
  );
  for (const r of own) {
    assert.match(r.source_path, new RegExp(`/data/${r.service}$`));
    assert.deepEqual(r.verified, Object.fromEntries(r.destinations.map((d: string) => [d, null])));
  }

  // Under the config that still has `legacy`, it is not marked.
  const before: RowJson[] = JSON.parse(
    assertOk(await alphaBefore.run(["list", "legacy", "--all-hosts", "--json"])).stdout,
  );
  assert.deepEqual(before.map((r) => [r.host, r.id, r.in_config]), [
    ["alpha", alphaLegacy.id, true],
  ]);

  const table = assertOk(await alpha.run(["list", "--all-hosts"])).stdout;
  assert.match(
    table,
    new RegExp(`^alpha\\s+legacy \\(not in config\\)\\s.*${alphaLegacy.id}$`, "m"),
  );
  assert.match(table, new RegExp(`^beta\\s+app\\s.*${betaApp.id}$`, "m"));
  const text = assertOk(await alpha.run(["hosts"])).stdout;
  assert.match(text, /^alpha \(this host\): 4 services, /m);
  assert.match(text, /^beta: 2 services, /m);
  assert.match(text, new RegExp(`^  legacy .*${alphaLegacy.id}  \\(not in config\\)$`, "m"));
});

Deno.test("hosts and list --all-hosts: an older backup's age; a destination that cannot be listed is reported, the others shown", async () => {
  await using dir = await tempDir();
  await using nas = await nasDir();
  const missingBucket = `packrat-missing-${crypto.randomUUID().slice(0, 8)}`;
  const s = await setup(
    dir.path,
    { app: { path: `${dir.path}/data` } },
    remoteBackupConfig(srv, missingBucket, nas.relative),
  );
  // Another machine's archive on the NAS, taken three days and an hour ago.
  const oldId = newBackupId(new Date(Date.now() - (3 * 24 + 1) * 3_600_000));
  await Deno.mkdir(`${nas.absolute}/oldbox/app`, { recursive: true });
  await Deno.writeTextFile(`${nas.absolute}/oldbox/app/${oldId}.packrat`, "12345");

  const json = assertOk(await s.run(["hosts", "--json"]));
  assert.match(json.stderr, /s3: cannot list s3:\/\/packrat-missing-.*the bucket does not exist/);
  assert.deepEqual(JSON.parse(json.stdout), [
    {
      host: "oldbox",
      services: [{
        service: "app",
        newest: { id: oldId, time: timeOfId(oldId).toISOString(), size: 5 },
        backups: 1,
        in_config: true,
        destinations: ["synology"],
      }],
      size: 5,
    },
    {
      host: "testhost",
      services: [{
        service: "app",
        newest: null,
        backups: 0,
        in_config: true,
        destinations: [],
      }],
      size: 0,
    },
  ]);
  const text = assertOk(await s.run(["hosts"]));
  assert.match(text.stdout, new RegExp(`^  app .* 3 days ago .*${oldId}$`, "m"));
  assert.match(text.stdout, /^ {2}app .* no backups yet /m);
  assert.match(text.stderr, /the bucket does not exist/);

  const list = assertOk(await s.run(["list", "--all-hosts"]));
  assert.match(
    list.stdout,
    new RegExp(`^oldbox\\s+app\\s.*3 days ago .*${oldId} {2}\\(one copy\\)$`, "m"),
  );
  assert.match(list.stderr, /the bucket does not exist/);
});

Deno.test("hosts and list --all-hosts keep only the network: no programs, no writes", async () => {
  await using dir = await tempDir("packrat-perm-");
  const s = await setup(dir.path, { app: { path: dir.path } });
  for (const args of [["hosts"], ["list", "--all-hosts"]]) {
    const after = await permissionsAfter(dir.path, ["--config", s.config, ...args]);
    assert.equal(after.code, 0, JSON.stringify(after));
    assert.deepEqual(after.state, {
      run: "prompt",
      write: "prompt",
      net: "granted",
      read: "granted",
    });
    assert.equal(after.spawn, "refused");
    assert.equal(after.write, "refused");
  }
});
