/** Tree helpers of restore, on real files: removal never crosses into a mounted volume. */
import assert from "node:assert/strict";
import { removeTree } from "../../src/io/tree.ts";
import { tempDir } from "../helpers.ts";
import { bindMount, tmpfs } from "../restore/support.ts";

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

Deno.test("removing a tree leaves a bind mount of the same filesystem alone", async () => {
  await using dir = await tempDir();
  const old = `${dir.path}/old`;
  const source = `${dir.path}/elsewhere`;
  await write(`${source}/precious`, "bound");
  await write(`${old}/a/file`, "mine");
  await Deno.mkdir(`${old}/a/bound`);
  await using _ = await bindMount(source, `${old}/a/bound`, dir.path);
  assert.equal((await Deno.stat(`${old}/a/bound`)).dev, (await Deno.stat(old)).dev);
  const problems = removeTree(old);
  assert.deepEqual(problems, [
    `${old}/a/bound is a mount point; it and its contents were left alone`,
  ]);
  assert.equal(await Deno.readTextFile(`${source}/precious`), "bound");
  await assert.rejects(Deno.lstat(`${old}/a/file`), Deno.errors.NotFound);
});
