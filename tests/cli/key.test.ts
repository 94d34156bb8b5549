/** init and rekey: the key file, its protection, and recovering it from the password. */
import assert from "node:assert/strict";
import { assertOk, packrat, PASSWORD, ROOT, setup, tempDir } from "../helpers.ts";
import { Terminal } from "../tmux.ts";

Deno.test("init asks for the password twice on a terminal and writes a 0600 key file", async () => {
  await using dir = await tempDir();
  const keyFile = `${dir.path}/sub/key`;
  {
    await using term = await Terminal.start(`${ROOT}/scripts/packrat init --key-file ${keyFile}`);
    await term.waitFor(/New password/);
    await term.type("terminal password");
    await term.keys("Enter");
    await term.waitFor(/Repeat the password/);
    await term.type("terminal password");
    await term.keys("Enter");
    await term.waitFor(/\[exit 0\]/);
  }
  const info = await Deno.stat(keyFile);
  assert.equal(info.mode! & 0o777, 0o600);
  const doc = JSON.parse(await Deno.readTextFile(keyFile));
  assert.equal(doc.kdf.algorithm, "argon2id");
  assert.ok(doc.kdf.memory_kib >= 65536 && doc.kdf.iterations >= 3);
  assert.match(doc.key_id, /^[0-9a-f]{32}$/);
  assert.ok(!(await Deno.readTextFile(keyFile)).includes("terminal password"));
});

Deno.test("init refuses to overwrite without --force, and refuses a too-open key file", async () => {
  await using dir = await tempDir();
  const pw = `${dir.path}/pw`;
  await Deno.writeTextFile(pw, "password one\n");
  const keyFile = `${dir.path}/key`;
  assertOk(await packrat(["init", "--password-file", pw, "--key-file", keyFile]));
  const original = await Deno.readTextFile(keyFile);
  const again = await packrat(["init", "--password-file", pw, "--key-file", keyFile]);
  assert.equal(again.code, 4);
  assert.match(again.stderr, /already exists.*--force/);
  assert.equal(await Deno.readTextFile(keyFile), original);
  assertOk(await packrat(["init", "--password-file", pw, "--key-file", keyFile, "--force"]));
  assert.notEqual(await Deno.readTextFile(keyFile), original, "new random salt, new key");

  const s = await setup(dir.path, { svc: { path: dir.path } });
  await Deno.chmod(s.keyFile, 0o640);
  const open = await s.run(["backup", "svc"]);
  assert.equal(open.code, 4);
  assert.match(open.stderr, /readable by group or others \(mode 640\).*chmod 600/);
  assert.deepEqual([...Deno.readDirSync(s.dest)], []);

  const noTty = await packrat(["init", "--key-file", `${dir.path}/k2`]);
  assert.equal(noTty.code, 2);
  assert.match(noTty.stderr, /--password-file/);
});

Deno.test("rekey recreates a lost key file from the password; a wrong password writes nothing", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "precious");
  const s = await setup(dir.path, { svc: { path: `${dir.path}/data` } });
  assertOk(await s.run(["backup", "svc"]));
  const original = JSON.parse(await Deno.readTextFile(s.keyFile));
  await Deno.remove(s.keyFile);

  await Deno.writeTextFile(`${dir.path}/wrong`, "not the password\n");
  const wrong = await s.run(["rekey", "--password-file", `${dir.path}/wrong`]);
  assert.equal(wrong.code, 4);
  assert.match(wrong.stderr, /wrong password/);
  await assert.rejects(Deno.stat(s.keyFile), Deno.errors.NotFound);

  await Deno.writeTextFile(`${dir.path}/right`, `${PASSWORD}\n`);
  assertOk(await s.run(["rekey", "--password-file", `${dir.path}/right`]));
  const rebuilt = JSON.parse(await Deno.readTextFile(s.keyFile));
  assert.equal(rebuilt.key_id, original.key_id);
  assert.equal(rebuilt.key, original.key);
  assert.equal((await Deno.stat(s.keyFile)).mode! & 0o777, 0o600);
  assertOk(await s.run(["verify", "svc"]));
});
