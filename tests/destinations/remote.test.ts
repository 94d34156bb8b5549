/**
 * local + S3 (Ceph radosgw) + SFTP (OpenSSH) together, against the real servers that
 * scripts/test starts on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { S3Destination } from "../../src/destinations/s3.ts";
import {
  assertOk,
  assertSameTree,
  findArchives,
  ROOT,
  setup,
  snapshotTree,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";
import {
  listKeys,
  multipartUploads,
  nasDir,
  putObject,
  remoteBackupConfig,
  s3Client,
  servers,
  synologyBackupConfig,
  tempBucket,
} from "../remote.ts";

const srv = servers();
const s3 = s3Client(srv);
const idOf = (stdout: string) => /backup (\d{8}T\d{6}\.\d{3}Z)/.exec(stdout)![1];
const nasArchives = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".packrat")).sort();

async function makeData(path: string): Promise<void> {
  await Deno.mkdir(`${path}/sub`, { recursive: true });
  await Deno.writeTextFile(`${path}/sub/notes.txt`, "remote round trip\n");
  await Deno.symlink("sub/notes.txt", `${path}/link`);
  await writeRandomFile(`${path}/blob.bin`, 20 * 1024 * 1024 + 7);
}

Deno.test("one backup lands on local, S3 and SFTP with the same id; each restores exactly", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  await using nas = await nasDir();
  const data = `${dir.path}/data`;
  await makeData(data);
  const s = await setup(
    dir.path,
    { svc: { path: data } },
    remoteBackupConfig(srv, bucket.name, nas.relative),
  );

  const out = assertOk(await s.run(["backup", "svc"]));
  const id = idOf(out.stdout);
  for (const name of ["local", "s3", "synology"]) {
    assert.match(out.stdout, new RegExp(`\\n  ${name}\\s+ok`), out.stdout);
  }
  assert.deepEqual(await listKeys(s3, bucket.name), [`packrat/testhost/svc/${id}.packrat`]);
  assert.deepEqual(await nasArchives(`${nas.absolute}/testhost/svc`), [`${id}.packrat`]);
  assert.deepEqual((await findArchives(s.dest, "svc")).map((p) => p.split("/").pop()), [
    `${id}.packrat`,
  ]);

  const rows = JSON.parse(assertOk(await s.run(["list", "--json"])).stdout);
  assert.deepEqual(
    rows.map((r: { id: string; destinations: string[] }) => [r.id, r.destinations]),
    [
      [id, ["local", "s3", "synology"]],
    ],
  );
  const source = await snapshotTree(data);
  for (const from of ["local", "s3", "synology"]) {
    const target = `${dir.path}/from-${from}`;
    const restored = assertOk(
      await s.run(["restore", "svc", "--backup", id, "--from", from, "--target", target]),
    );
    assert.match(restored.stdout, new RegExp(`from ${from} into`));
    assertSameTree(await snapshotTree(target), source);
    assertOk(await s.run(["verify", "svc", "--from", from]));
  }
});

Deno.test("a closed SFTP port: local and S3 still succeed, the run reports partial success", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "x");
  const s = await setup(
    dir.path,
    { svc: { path: `${dir.path}/data` } },
    remoteBackupConfig(srv, bucket.name, "unused", { synology: { port: 1 } }),
  );
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 6, result.stderr);
  assert.match(
    result.stdout,
    /\n {2}synology\s+FAILED\s+synology: cannot connect to 127\.0\.0\.1:1/,
  );
  assert.match(result.stdout, /\n {2}local\s+ok/);
  assert.match(result.stdout, /\n {2}s3\s+ok/);
  assert.match(result.stderr, /retrying the upload/);
  assert.equal((await listKeys(s3, bucket.name)).length, 1);
});

Deno.test("sshd killed mid-upload: partial success, nothing visible on the NAS, no retention there", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  await using nas = await nasDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/big.bin`, 400 * 1024 * 1024);
  // Three older archives on the NAS, with retention at 1: they must all survive.
  const nasService = `${nas.absolute}/testhost/svc`;
  await Deno.mkdir(nasService, { recursive: true });
  const old = ["20200101T000000.000Z", "20200102T000000.000Z", "20200103T000000.000Z"];
  for (const id of old) await Deno.writeTextFile(`${nasService}/${id}.packrat`, "old");
  const s = await setup(
    dir.path,
    { svc: { path: data, retain_backups: 1 } },
    remoteBackupConfig(srv, bucket.name, nas.relative),
  );
  const child = new Deno.Command(`${ROOT}/scripts/packrat`, {
    args: ["--config", s.config, "backup", "svc"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    // Wait until the upload to the NAS is under way, then take the whole sshd down.
    await pollUntil(() =>
      [...Deno.readDirSync(nasService)].some((e) => e.name.includes(".partial-"))
    );
    await stopSshd();
    const { code, stdout } = await child.output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 6, out);
    assert.match(out, /\n {2}synology\s+FAILED/);
    assert.match(out, /\n {2}s3\s+ok/);
    assert.match(out, /\n {2}local\s+ok/);
    assert.deepEqual(await nasArchives(nasService), old.map((id) => `${id}.packrat`));
  } finally {
    await stopChild(child);
    await startSshd();
  }
});

Deno.test("an interrupted S3 upload is aborted: no multipart upload is left behind", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/big.bin`, 300 * 1024 * 1024);
  const config = remoteBackupConfig(srv, bucket.name, "unused");
  const s = await setup(dir.path, { svc: { path: data } }, { s3: config.s3, local: undefined });
  const child = new Deno.Command(`${ROOT}/scripts/packrat`, {
    args: ["--config", s.config, "backup", "svc"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    await pollUntil(async () => (await multipartUploads(s3, bucket.name)) > 0);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  child.kill("SIGTERM");
  const { code, stderr } = await child.output();
  assert.equal(code, 130, new TextDecoder().decode(stderr));
  assert.match(new TextDecoder().decode(stderr), /interrupted by SIGTERM/);
  assert.equal(await multipartUploads(s3, bucket.name), 0);
  assert.deepEqual(await listKeys(s3, bucket.name), []);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/staging`)], []);
});

Deno.test("a wrong or unknown host key is refused and the offered fingerprint shown", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "x");
  const real = (await Deno.readTextFile(`${srv.sshdDir}/host_key_sha256`)).trim();
  const wrong = `SHA256:${"A".repeat(43)}`;
  await Deno.writeTextFile(`${dir.path}/empty_known_hosts`, "");
  for (const synology of [{ host_key: wrong }, { known_hosts: `${dir.path}/empty_known_hosts` }]) {
    const s = await setup(dir.path, { svc: { path: `${dir.path}/data` } }, {
      synology: synologyBackupConfig(srv, "unused", synology),
    });
    const result = await s.run(["backup", "svc"]);
    assert.equal(result.code, 6, result.stderr);
    assert.ok(result.stdout.includes(real), `fingerprint shown: ${result.stdout}`);
    assert.match(result.stdout, /synology\s+FAILED\s+synology: host key of 127\.0\.0\.1/);
    assert.doesNotMatch(result.stderr, /retrying/, "a refused host key is not retried");
  }
});

Deno.test("a passphrase-protected key works; the right pinned fingerprint is accepted", async () => {
  await using dir = await tempDir();
  await using nas = await nasDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "x");
  const real = (await Deno.readTextFile(`${srv.sshdDir}/host_key_sha256`)).trim();
  const s = await setup(dir.path, { svc: { path: `${dir.path}/data` } }, {
    synology: synologyBackupConfig(srv, nas.relative, {
      key_file: `${srv.sshdDir}/client_rsa_pass`,
      key_passphrase_file: `${srv.sshdDir}/client_rsa_pass.passphrase`,
      known_hosts: undefined,
      host_key: real,
    }),
  });
  const out = assertOk(await s.run(["backup", "svc"]));
  assert.match(out.stdout, /synology\s+ok/);
  assert.equal((await nasArchives(`${nas.absolute}/testhost/svc`)).length, 1);
});

Deno.test("a wrong S3 secret: a clear auth error, the secret never printed", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "x");
  const secret = "wrong-secret-value-3141592653";
  const config = remoteBackupConfig(srv, bucket.name, "unused", {
    s3: { secret_access_key: undefined, secret_access_key_file: `${dir.path}/secret` },
  });
  await Deno.writeTextFile(`${dir.path}/secret`, `${secret}\n`);
  const s = await setup(dir.path, { svc: { path: `${dir.path}/data` } }, { s3: config.s3 });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 6, result.stderr);
  assert.match(
    result.stdout,
    /s3\s+FAILED\s+s3: cannot upload .*access denied \(SignatureDoesNotMatch\)/,
  );
  assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
  assert.doesNotMatch(result.stderr, /retrying/, "an auth error is not retried");
  assert.deepEqual(await listKeys(s3, bucket.name), []);
});

Deno.test("retention with N=2 after 4 runs: the 2 newest on every destination, strangers untouched", async () => {
  await using dir = await tempDir();
  await using bucket = await tempBucket(s3);
  await using nas = await nasDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "x");
  const s = await setup(
    dir.path,
    { svc: { path: `${dir.path}/data`, retain_backups: 2 } },
    remoteBackupConfig(srv, bucket.name, nas.relative),
  );
  const strangers = [
    "packrat/otherhost/svc/20200101T000000.000Z.packrat",
    "packrat/testhost/svc-2/20200101T000000.000Z.packrat",
    "packrat/testhost/svc/notes.txt",
  ];
  for (const key of strangers) await putObject(s3, bucket.name, key, "stranger");
  for (const path of ["otherhost/svc", "testhost/svc-2"]) {
    await Deno.mkdir(`${nas.absolute}/${path}`, { recursive: true });
    await Deno.writeTextFile(`${nas.absolute}/${path}/20200101T000000.000Z.packrat`, "stranger");
  }
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(idOf(assertOk(await s.run(["backup", "svc"])).stdout));
  const kept = ids.slice(2).map((id) => `${id}.packrat`);
  assert.deepEqual(
    (await listKeys(s3, bucket.name)).filter((k) => !strangers.includes(k)),
    kept.map((name) => `packrat/testhost/svc/${name}`),
  );
  for (const key of strangers) assert.ok((await listKeys(s3, bucket.name)).includes(key), key);
  assert.deepEqual(await nasArchives(`${nas.absolute}/testhost/svc`), kept);
  assert.deepEqual(await nasArchives(`${nas.absolute}/otherhost/svc`), [
    "20200101T000000.000Z.packrat",
  ]);
  assert.deepEqual(await nasArchives(`${nas.absolute}/testhost/svc-2`), [
    "20200101T000000.000Z.packrat",
  ]);
  assert.deepEqual((await findArchives(s.dest, "svc")).map((p) => p.split("/").pop()), kept);
});

Deno.test("S3 listing pages through results", async () => {
  await using bucket = await tempBucket(s3);
  const ids = Array.from(
    { length: 23 },
    (_, i) => `202001${String(i + 1).padStart(2, "0")}T000000.000Z`,
  );
  for (const id of ids) await putObject(s3, bucket.name, `p/h/svc/${id}.packrat`, "x");
  await putObject(s3, bucket.name, "p/h/svc/nested/20200101T000000.000Z.packrat", "x");
  const destination = new S3Destination({
    endpoint: srv.s3Endpoint,
    region: "us-east-1",
    bucket: bucket.name,
    accessKeyId: { kind: "inline", value: srv.s3AccessKeyId, key: "a" },
    secretAccessKey: { kind: "inline", value: srv.s3SecretAccessKey, key: "b" },
    path: "p/",
  }, 5);
  try {
    assert.deepEqual((await destination.list("h", "svc")).map((a) => a.id), ids);
  } finally {
    await destination.close();
  }
});

async function pollUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function sshdScript(action: "start" | "stop"): Promise<void> {
  const out = await new Deno.Command(`${ROOT}/scripts/services/sshd`, {
    args: [action, srv.sshdDir],
    env: { SSHD_PORT: String(srv.sshdPort) },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** Stops the listener and every session process under it (a mid-transfer crash). */
async function stopSshd(): Promise<void> {
  const master = Number((await Deno.readTextFile(`${srv.sshdDir}/sshd.pid`)).trim());
  const sessions = await new Deno.Command("pgrep", {
    args: ["-P", String(master)],
    stdout: "piped",
  })
    .output();
  await sshdScript("stop");
  for (const pid of new TextDecoder().decode(sessions.stdout).split(/\s+/).filter(Boolean)) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone with the listener.
    }
  }
}

const startSshd = () => sshdScript("start");

/** Ends a spawned CLI that a failed assertion left running. */
async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already exited.
  }
  await child.status;
}
