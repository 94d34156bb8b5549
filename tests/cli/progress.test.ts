/**
 * Progress on a real terminal (tmux): a backup shows entries, bytes read and written, the rate
 * and the current path in one block redrawn in place; a restore shows percent, bytes, rate and
 * ETA; when they end, the block is gone and only the result stays.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, ROOT, setup, tempDir, writeRandomFile } from "../helpers.ts";
import { Terminal } from "../tmux.ts";

const MB = 1024 * 1024;

Deno.test("progress: backup and restore draw one block in place on a terminal, then clear it", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(`${data}/big`, { recursive: true });
  await writeRandomFile(`${data}/big/blob.bin`, 400 * MB);
  const s = await setup(dir.path, { svc: { path: data } });
  const cli = `${ROOT}/scripts/packrat --config ${s.config}`;

  {
    await using term = await Terminal.start(`${cli} backup svc`);
    const during = await term.waitFor(/svc: archiving +\d+ entries +[\d.]+ \w?B read → /);
    assert.match(during, /read → [\d.]+ \w?B written +[\d.]+ \w?B\/s/);
    assert.match(during, /^ {2}big\/blob\.bin$/m, "the current path");
    const done = await term.waitFor(/\[exit \d+\]/, 120_000);
    assert.match(done, /\[exit 0\]/, done);
    assert.doesNotMatch(done, /archiving/, "the block is cleared at the end");
    assert.equal(done.match(/svc: backup \S+ —/g)?.length, 1, done);
  }
  {
    const target = `${dir.path}/restored`;
    await using term = await Terminal.start(
      `${cli} restore svc --backup latest --target ${target} --yes`,
    );
    const during = await term.waitFor(/svc: restoring \S+ +\d+% +[\d.]+ \w?B of [\d.]+ \w?B/);
    assert.match(during, /\w?B\/s +(ETA \d+\w|done)/);
    const done = await term.waitFor(/\[exit \d+\]/, 120_000);
    assert.match(done, /\[exit 0\]/, done);
    assert.doesNotMatch(done, /restoring \S+ +\d+%/);
    assert.equal((await Deno.stat(`${target}/big/blob.bin`)).size, 400 * MB);
  }
  assertOk(await s.run(["verify", "svc"]));
});
