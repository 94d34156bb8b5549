/**
 * `packrat init` in a real terminal: the password typed twice, retries when the two differ,
 * the strength hint, Ctrl-C, and the reminder of what to keep; `--password-file` never prompts.
 */
import assert from "node:assert/strict";
import { deriveKey, readKeyFile } from "../../src/crypto/key.ts";
import { exists, ROOT, tempDir } from "../helpers.ts";
import { Terminal } from "../tmux.ts";

const STRONG = "correct horse battery staple";

function init(keyFile: string, ...args: string[]): Promise<Terminal> {
  return Terminal.start(
    `NO_COLOR=1 ${ROOT}/scripts/packrat init --key-file ${keyFile} ${args.join(" ")}`,
  );
}

/** Types `text` and Enter once `prompt` is the active question (clack marks it ◆, or *). */
async function answer(term: Terminal, prompt: string, text: string): Promise<void> {
  await term.waitFor(new RegExp(`[◆*]  ${prompt}`));
  await term.type(text);
  await term.keys("Enter");
}

/** The key file at `path` holds the key `password` derives, readable only by its owner. */
async function assertKeyOf(path: string, password: string): Promise<void> {
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const stored = await readKeyFile(path);
  assert.equal((await deriveKey(password, stored.kdf)).keyId, stored.keyId);
}

Deno.test("init on a terminal: a mismatched confirmation is explained and asked again", async () => {
  await using dir = await tempDir();
  const keyFile = `${dir.path}/key`;
  await using term = await init(keyFile);
  await answer(term, "New password", "first try of a password");
  await answer(term, "Repeat the password", "first try of a pasword");
  const retry = await term.waitFor(/the two passwords differ.*try 2 of 3/);
  assert.equal(await exists(keyFile), false, "nothing written before the two entries agree");
  await answer(term, "New password", STRONG);
  await answer(term, "Repeat the password", STRONG);
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /\[exit 0\]/, done);
  assert.doesNotMatch(retry, /weak password/, "no hint for a long passphrase");
  // The reminder: where the key is, its mode, what losing the password means, how to keep it.
  assert.ok(done.includes(`wrote key file ${keyFile} (key id `), done);
  assert.match(done, /mode 0600: only you can read it/);
  assert.match(done, /Without the password or this key file your backups cannot be restored/);
  assert.match(done, /password manager.*packrat rekey/);
  await assertKeyOf(keyFile, STRONG);
});

Deno.test("init on a terminal: three mismatches are an error and write nothing", async () => {
  await using dir = await tempDir();
  const keyFile = `${dir.path}/key`;
  await using term = await init(keyFile);
  for (let n = 1; n <= 3; n++) {
    await answer(term, "New password", `${STRONG} ${n}`);
    await answer(term, "Repeat the password", `${STRONG} ${n + 1}`);
  }
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /try 3 of 3/);
  assert.match(done, /error: the two passwords differed 3 times; nothing was written/);
  assert.match(done, /\[exit 2\]/, done);
  assert.equal(await exists(keyFile), false);
  assert.deepEqual([...Deno.readDirSync(dir.path)], [], "no temp file either");
});

Deno.test("init on a terminal: an empty password is refused, a weak one gets a hint", async () => {
  await using dir = await tempDir();
  const keyFile = `${dir.path}/key`;
  await using term = await init(keyFile);
  await term.waitFor(/New password/);
  await term.keys("Enter");
  await term.waitFor(/the password cannot be empty/);
  await term.type("12345678");
  await term.keys("Enter");
  await term.waitFor(/weak password: only 8 characters, only digits\.\n.*A passphrase of 12/);
  await answer(term, "Repeat the password", "12345678");
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /\[exit 0\]/, done);
  await assertKeyOf(keyFile, "12345678");
});

Deno.test("init on a terminal: Ctrl-C at the confirmation writes nothing and exits 130", async () => {
  await using dir = await tempDir();
  const keyFile = `${dir.path}/key`;
  await using term = await init(keyFile);
  await answer(term, "New password", STRONG);
  await term.waitFor(/Repeat the password/);
  await term.keys("C-c");
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /interrupted.*nothing was written/);
  assert.match(done, /\[exit 130\]/, done);
  assert.equal(await exists(keyFile), false);
});

Deno.test("init --password-file on a terminal asks nothing", async () => {
  await using dir = await tempDir();
  const keyFile = `${dir.path}/key`;
  await Deno.writeTextFile(`${dir.path}/pw`, `${STRONG}\n`);
  await using term = await init(keyFile, "--password-file", `${dir.path}/pw`);
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /\[exit 0\]/, done);
  assert.doesNotMatch(done, /New password|Repeat the password/);
  assert.ok(done.includes(`wrote key file ${keyFile} (key id `), done);
  assert.match(done, /mode 0600/);
  await assertKeyOf(keyFile, STRONG);
});
