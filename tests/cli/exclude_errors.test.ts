/**
 * An `exclude` pattern that is not a valid glob is a config error found when the file is read:
 * before the lock, any hook or any container stop, with the list item's file:line:column.
 */
import assert from "node:assert/strict";
import { filesUnder, setup, tempDir } from "../helpers.ts";

Deno.test("a bad exclude glob: exit 3 at the item's position, pre_backup never ran, nothing stored", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  const marker = `${dir.path}/pre_backup-ran`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/f`, "x");
  const s = await setup(dir.path, {
    svc: {
      path: data,
      exclude: ["**/*.log", "[abc"],
      pre_backup: { command: `touch '${marker}'` },
    },
  });
  // Where the bad item is in the file the helper wrote.
  const lines = (await Deno.readTextFile(s.config)).split("\n");
  const line = lines.findIndex((l) => l.includes('"[abc"'));
  assert.ok(line >= 0, "the pattern is not in the config file");
  const column = lines[line].indexOf('"[abc"') + 1;

  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 3, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(
      `config\\.yaml:${line + 1}:${column}: services\\.svc\\.exclude\\[1\\]: ` +
        `unclosed "\\[" in pattern "\\[abc"`,
    ),
  );
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  assert.equal(result.stdout, "");
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound, "pre_backup ran");
  assert.deepEqual(await filesUnder(s.dest), []);
  assert.deepEqual(await filesUnder(`${dir.path}/staging`), []);
});
