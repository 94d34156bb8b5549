/** The restore selector in a real terminal: arrow keys, newest first, then a confirmation. */
import assert from "node:assert/strict";
import { assertOk, ROOT, setup, tempDir } from "../helpers.ts";
import { Terminal } from "../tmux.ts";

Deno.test("restore without --backup lets the user pick with the arrow keys", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  const s = await setup(dir.path, { svc: { path: data } });
  const ids: string[] = [];
  for (const version of ["first", "second", "third"]) {
    await Deno.writeTextFile(`${data}/version.txt`, version);
    ids.push(/backup (\S+)/.exec(assertOk(await s.run(["backup", "svc"])).stdout)![1]);
  }
  await Deno.writeTextFile(`${data}/version.txt`, "live");

  await using term = await Terminal.start(
    `${ROOT}/scripts/packrat --config ${s.config} restore svc`,
  );
  const menu = await term.waitFor(new RegExp(ids[0].replace(".", "\\.")));
  // Newest first: the third backup is listed above the first one.
  assert.ok(menu.indexOf(ids[2]) < menu.indexOf(ids[0]), menu);
  assert.match(menu, /local/);
  await term.keys("Down");
  await term.keys("Enter");
  await term.waitFor(/will be replaced by backup/);
  assert.equal(await Deno.readTextFile(`${data}/version.txt`), "live", "nothing before the answer");
  await term.keys("Left");
  await term.keys("Enter");
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /\[exit 0\]/, done);
  assert.equal(await Deno.readTextFile(`${data}/version.txt`), "second");
});
