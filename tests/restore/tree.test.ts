/** Tree helpers of restore, on real files: removal never crosses into a mounted volume. */
import assert from "node:assert/strict";
import { removeTree } from "../../src/restore/tree.ts";
import { tempDir } from "../helpers.ts";
import { tmpfs } from "./support.ts";

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
}

Deno.test("removing a tree never crosses into a mounted volume", async () => {
  await using dir = await tempDir();
  const old = `${dir.path}/old`;
  await write(`${old}/a/file`, "mine");
  await using _ = await tmpfs(`${old}/a/vol`, dir.path);
  await write(`${old}/a/vol/precious`, "on the volume");
  const problems = removeTree(old);
  assert.deepEqual(problems, [
    `${old}/a/vol is a mount point; it and its contents were left alone`,
  ]);
  assert.equal(await Deno.readTextFile(`${old}/a/vol/precious`), "on the volume");
  await assert.rejects(Deno.lstat(`${old}/a/file`), Deno.errors.NotFound);
});
