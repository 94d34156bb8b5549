/**
 * One permission set, and commands that give up what they do not need: `deno task compile`, the
 * CLI wrapper and the test runner all use the `packrat` set of deno.json (never -A), and a
 * command's revoked permissions are really gone in its process — `list` can neither spawn a
 * process nor write a file afterwards, while `backup` still may.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, permissionsAfter, ROOT, setup, tempDir } from "../helpers.ts";

Deno.test("permissions: one set in deno.json, used by compile, the CLI wrapper and the tests; never -A", async () => {
  const deno = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const set = deno.permissions.packrat;
  assert.deepEqual(set.run, ["sh"], "the only program Packrat runs is sh (hooks)");
  assert.ok(!("all" in set));
  assert.match(deno.tasks.compile, /^deno compile -P=packrat /);
  for (const file of ["scripts/packrat", "scripts/test"]) {
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    assert.match(text, /-P=packrat/, file);
  }
  for (const text of [deno.tasks.compile, await Deno.readTextFile(`${ROOT}/scripts/packrat`)]) {
    assert.doesNotMatch(text, /\s(-A|--allow-all)\b/);
  }
});

Deno.test("permissions: after `list`, the process cannot spawn or write; after `backup`, it can", async () => {
  await using dir = await tempDir("packrat-perm-");
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const s = await setup(dir.path, { app: { path: `${dir.path}/data` } });
  assertOk(await s.run(["backup", "app"]));

  const list = await permissionsAfter(dir.path, ["--config", s.config, "list"]);
  assert.equal(list.code, 0, JSON.stringify(list));
  // Revoked: back to "prompt", which --no-prompt turns into a refusal.
  assert.deepEqual(list.state, { run: "prompt", write: "prompt", net: "granted", read: "granted" });
  assert.equal(list.spawn, "refused");
  assert.equal(list.write, "refused");

  const status = await permissionsAfter(dir.path, ["--config", s.config, "status"]);
  assert.equal(status.spawn, "refused");
  assert.equal(status.write, "refused");

  const backup = await permissionsAfter(dir.path, ["--config", s.config, "backup", "app"]);
  assert.equal(backup.code, 0, JSON.stringify(backup));
  assert.deepEqual(backup.state, {
    run: "granted",
    write: "granted",
    net: "granted",
    read: "granted",
  });
  assert.equal(backup.spawn, "allowed");
  assert.equal(backup.write, "allowed");
});
