/**
 * `packrat rekey` in a real terminal: the password asked once, the archive it used named, a
 * wrong password or Ctrl-C writing nothing; and the search past an archive that cannot be read.
 */
import assert from "node:assert/strict";
import {
  assertOk,
  exists,
  findArchives,
  PASSWORD,
  ROOT,
  type Setup,
  setup,
  tempDir,
} from "../helpers.ts";
import { Terminal } from "../tmux.ts";

/** A setup with one backup of `svc` and its key file deleted: the backup id and the key id. */
async function lostKey(dir: string): Promise<{ s: Setup; id: string; keyId: string }> {
  await Deno.mkdir(`${dir}/data`);
  await Deno.writeTextFile(`${dir}/data/f`, "precious");
  const s = await setup(dir, { svc: { path: `${dir}/data` } });
  const id = /backup (\S+)/.exec(assertOk(await s.run(["backup", "svc"])).stdout)![1];
  const keyId = JSON.parse(await Deno.readTextFile(s.keyFile)).key_id;
  await Deno.remove(s.keyFile);
  return { s, id, keyId };
}

function rekey(s: Setup): Promise<Terminal> {
  return Terminal.start(`NO_COLOR=1 ${ROOT}/scripts/packrat --config ${s.config} rekey`);
}

Deno.test("rekey on a terminal: the right password recreates the key file", async () => {
  await using dir = await tempDir();
  const { s, id, keyId } = await lostKey(dir.path);
  assert.notEqual((await s.run(["verify", "svc"])).code, 0, "verify needs the key file");
  {
    await using term = await rekey(s);
    const asked = await term.waitFor(/Password of your backups/);
    assert.ok(asked.includes(`using testhost/svc/${id} on local`), asked);
    await term.type(PASSWORD);
    await term.keys("Enter");
    const done = await term.waitFor(/\[exit \d+\]/);
    assert.match(done, /\[exit 0\]/, done);
    assert.ok(done.includes(`wrote key file ${s.keyFile}`), done);
  }
  assert.equal(JSON.parse(await Deno.readTextFile(s.keyFile)).key_id, keyId);
  assert.equal((await Deno.stat(s.keyFile)).mode! & 0o777, 0o600);
  assertOk(await s.run(["verify", "svc"]));
});

Deno.test("rekey on a terminal: a wrong password is an error and writes nothing", async () => {
  await using dir = await tempDir();
  const { s } = await lostKey(dir.path);
  await using term = await rekey(s);
  await term.waitFor(/Password of your backups/);
  await term.type("not the password");
  await term.keys("Enter");
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /error: wrong password.*nothing was written/);
  assert.match(done, /\[exit 4\]/, done);
  assert.equal(await exists(s.keyFile), false);
});

Deno.test("rekey on a terminal: Ctrl-C at the password writes nothing and exits 130", async () => {
  await using dir = await tempDir();
  const { s } = await lostKey(dir.path);
  await using term = await rekey(s);
  await term.waitFor(/Password of your backups/);
  await term.keys("C-c");
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /\[exit 130\]/, done);
  assert.equal(await exists(s.keyFile), false);
});

Deno.test("rekey skips an archive it cannot read and says which one it used", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "precious");
  const s = await setup(dir.path, {
    older: { path: `${dir.path}/data` },
    newer: { path: `${dir.path}/data` },
  });
  const older = /backup (\S+)/.exec(assertOk(await s.run(["backup", "older"])).stdout)![1];
  assertOk(await s.run(["backup", "newer"]));
  const [damaged] = await findArchives(s.dest, "newer");
  const bytes = await Deno.readFile(damaged);
  bytes.fill(0, 0, 64);
  await Deno.writeFile(damaged, bytes);
  await Deno.remove(s.keyFile);

  await Deno.writeTextFile(`${dir.path}/pw`, `${PASSWORD}\n`);
  const result = assertOk(await s.run(["rekey", "--password-file", `${dir.path}/pw`]));
  assert.match(result.stderr, /warning: cannot read testhost\/newer\/\S+ on local: .*next copy/);
  assert.ok(result.stderr.includes(`using testhost/older/${older} on local`), result.stderr);
  assertOk(await s.run(["verify", "older"]));
});
