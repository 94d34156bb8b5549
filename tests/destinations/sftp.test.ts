/**
 * The synology destination against the real test sshd, mostly through the CLI: host key types
 * taken from known_hosts, key and passphrase problems, the stored archive's mode.
 */
import assert from "node:assert/strict";
import { SftpDestination } from "../../src/destinations/sftp.ts";
import { assertOk, setup, tempDir } from "../helpers.ts";
import {
  hostKeyLine,
  keyFingerprint,
  nasDir,
  servers,
  synologyBackupConfig,
  synologyDestinationConfig,
} from "../remote.ts";

const srv = servers();
const idOf = (stdout: string) => /backup (\d{8}T\d{6}\.\d{3}Z)/.exec(stdout)![1];

async function dataDir(root: string): Promise<string> {
  await Deno.mkdir(`${root}/data`);
  await Deno.writeTextFile(`${root}/data/f`, "sftp\n");
  return `${root}/data`;
}

async function sshKeygen(...args: string[]): Promise<void> {
  const out = await new Deno.Command("ssh-keygen", { args, stdout: "null", stderr: "piped" })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

for (const type of ["ecdsa", "rsa"] as const) {
  Deno.test(`a known_hosts holding only the server's ${type} key: the backup connects and stores`, async () => {
    await using dir = await tempDir();
    await using nas = await nasDir();
    const knownHosts = `${dir.path}/known_hosts`;
    await Deno.writeTextFile(knownHosts, `${await hostKeyLine(srv, type)}\n`);
    if (type === "rsa") await sshKeygen("-H", "-f", knownHosts); // hashed, as Debian's ssh writes
    const s = await setup(dir.path, { svc: { path: await dataDir(dir.path) } }, {
      synology: synologyBackupConfig(srv, nas.relative, { known_hosts: knownHosts }),
    });
    const out = assertOk(await s.run(["backup", "svc"]));
    assert.match(out.stdout, /\n {2}synology\s+ok/);
    const stored = [...Deno.readDirSync(`${nas.absolute}/testhost/svc`)].map((e) => e.name);
    assert.deepEqual(stored, [`${idOf(out.stdout)}.packrat`]);
  });
}

Deno.test("an ECDSA-only known_hosts with another ECDSA key: refused as changed, the server's ECDSA fingerprint shown", async () => {
  await using dir = await tempDir();
  await sshKeygen("-q", "-t", "ecdsa", "-N", "", "-f", `${dir.path}/impostor`);
  const [algorithm, key] = (await Deno.readTextFile(`${dir.path}/impostor.pub`)).split(/\s+/);
  const knownHosts = `${dir.path}/known_hosts`;
  await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${srv.sshdPort} ${algorithm} ${key}\n`);
  const offered = await keyFingerprint(`${srv.sshdDir}/ssh_host_ecdsa_key.pub`);
  const s = await setup(dir.path, { svc: { path: await dataDir(dir.path) } }, {
    synology: synologyBackupConfig(srv, "unused", { known_hosts: knownHosts }),
  });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 6, result.stderr);
  assert.match(
    result.stdout,
    /synology\s+FAILED\s+synology: host key of 127\.0\.0\.1:\d+ does not match/,
  );
  assert.ok(result.stdout.includes(offered), `${offered} in ${result.stdout}`);
  assert.doesNotMatch(result.stderr, /retrying/);
});

/** A known_hosts naming the test sshd with a fresh ECDSA P-384 key: a type it does not have. */
async function p384KnownHosts(dir: string): Promise<string> {
  await sshKeygen("-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", `${dir}/p384`);
  const [algorithm, key] = (await Deno.readTextFile(`${dir}/p384.pub`)).split(/\s+/);
  const knownHosts = `${dir}/known_hosts`;
  await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${srv.sshdPort} ${algorithm} ${key}\n`);
  return knownHosts;
}

Deno.test("known_hosts holding only key types the server does not have: refused at once, saying so", async () => {
  await using dir = await tempDir();
  // The test sshd has an ECDSA P-256 key, not a P-384 one.
  const knownHosts = await p384KnownHosts(dir.path);
  const s = await setup(dir.path, { svc: { path: await dataDir(dir.path) } }, {
    synology: synologyBackupConfig(srv, "unused", { known_hosts: knownHosts }),
  });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 6, result.stderr);
  assert.match(
    result.stdout,
    /synology\s+FAILED\s+synology: host key of 127\.0\.0\.1:\d+: .*known_hosts holds only ecdsa-sha2-nistp384 keys for it, and the server offers none of them/,
  );
  assert.doesNotMatch(result.stderr, /retrying/);
});

Deno.test("a failed handshake leaves no stray error behind to crash the process", async () => {
  await using dir = await tempDir();
  const knownHosts = await p384KnownHosts(dir.path);
  // The server resets each refused connection after the handshake error; a process that goes on
  // working (retries, other destinations) must not die of that second error.
  const destination = new SftpDestination({
    ...synologyDestinationConfig(srv, "unused"),
    knownHosts,
  });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      await assert.rejects(destination.list("h", "svc"), /offers none of them/);
    }
  } finally {
    await destination.close();
  }
});

Deno.test("archives stored over SFTP get mode 0600", async () => {
  await using dir = await tempDir();
  await using nas = await nasDir();
  const s = await setup(dir.path, { svc: { path: await dataDir(dir.path) } }, {
    synology: synologyBackupConfig(srv, nas.relative),
  });
  const id = idOf(assertOk(await s.run(["backup", "svc"])).stdout);
  const info = await Deno.stat(`${nas.absolute}/testhost/svc/${id}.packrat`);
  assert.equal((info.mode! & 0o777).toString(8), "600");
});

const passphrase = async () =>
  (await Deno.readTextFile(`${srv.sshdDir}/client_rsa_pass.passphrase`)).trim();

Deno.test("a wrong key passphrase is permanent: exit 5, not retried, the passphrase never printed", async () => {
  await using dir = await tempDir();
  const wrong = "not-the-passphrase-2718281828";
  const s = await setup(dir.path, { svc: { path: await dataDir(dir.path) } }, {
    local: undefined,
    synology: synologyBackupConfig(srv, "unused", {
      key_file: `${srv.sshdDir}/client_rsa_pass`,
      key_passphrase: wrong,
    }),
  });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 5, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /synology\s+FAILED\s+synology: .*key_file .*client_rsa_pass/);
  assert.match(result.stdout, /key_passphrase/);
  assert.doesNotMatch(result.stderr, /retrying/);
  for (const secret of [wrong, await passphrase()]) {
    assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
  }
});

Deno.test("a wrong key_passphrase_file: named in the message, its content never printed", async () => {
  await using dir = await tempDir();
  const wrong = "also-not-the-passphrase-1414213562";
  await Deno.writeTextFile(`${dir.path}/passphrase`, `${wrong}\n`);
  const s = await setup(dir.path, { svc: { path: await dataDir(dir.path) } }, {
    synology: synologyBackupConfig(srv, "unused", {
      key_file: `${srv.sshdDir}/client_rsa_pass`,
      key_passphrase_file: `${dir.path}/passphrase`,
    }),
  });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 6, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /synology\s+FAILED\s+synology: .*key_file .*client_rsa_pass/);
  assert.match(result.stdout, /key_passphrase_file/);
  assert.doesNotMatch(result.stderr, /retrying/);
  assert.ok(!result.stdout.includes(wrong) && !result.stderr.includes(wrong));
});

Deno.test("an encrypted key without a passphrase is permanent and says to set key_passphrase", async () => {
  await using dir = await tempDir();
  const s = await setup(dir.path, { svc: { path: await dataDir(dir.path) } }, {
    synology: synologyBackupConfig(srv, "unused", { key_file: `${srv.sshdDir}/client_rsa_pass` }),
  });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 6, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /synology\s+FAILED\s+synology: .*key_file .*client_rsa_pass/);
  assert.match(result.stdout, /key_passphrase/);
  assert.match(result.stdout, /\n {2}local\s+ok/);
  assert.doesNotMatch(result.stderr, /retrying/);
  assert.ok(!result.stdout.includes(await passphrase()));
});

Deno.test("a key file that is not a private key is permanent and names key_file", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/not_a_key`, "-----BEGIN NONSENSE-----\nAAAA\n");
  const s = await setup(dir.path, { svc: { path: await dataDir(dir.path) } }, {
    local: undefined,
    synology: synologyBackupConfig(srv, "unused", { key_file: `${dir.path}/not_a_key` }),
  });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 5, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /synology\s+FAILED\s+synology: .*key_file .*not_a_key/);
  assert.doesNotMatch(result.stderr, /retrying/);
});
