/**
 * SIGINT or SIGTERM during a restore: the staging directory (decrypted data) is removed, the
 * target is as before, and the exit code is 130.
 */
import assert from "node:assert/strict";
import { assertOk, ROOT, setup, snapshotTree, tempDir, writeRandomFile } from "../helpers.ts";
import { leftovers } from "../restore/support.ts";

const BIG = 400 * 1024 * 1024;

/** Waits until a staging directory holds part of big.bin, i.e. the restore is mid-file. */
async function midExtraction(dir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    for (const staging of leftovers(dir)) {
      try {
        const size = (await Deno.stat(`${staging}/big.bin`)).size;
        if (size > 0 && size < BIG) return;
      } catch {
        // Not there yet.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("the restore never got to big.bin");
}

Deno.test("an interrupted restore removes its staging directory and exits 130", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/big.bin`, BIG);
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  await Deno.remove(`${data}/big.bin`);
  await Deno.writeTextFile(`${data}/live.txt`, "live");
  const before = await snapshotTree(data);

  const cases: [Deno.Signal, string[]][] = [
    ["SIGINT", ["--yes"]],
    ["SIGTERM", ["--target", `${dir.path}/elsewhere`]],
  ];
  for (const [signal, args] of cases) {
    const child = new Deno.Command(`${ROOT}/scripts/packrat`, {
      args: ["--config", s.config, "restore", "svc", "--backup", "latest", ...args],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await midExtraction(dir.path);
    child.kill(signal);
    const { code, stderr } = await child.output();
    const message = new TextDecoder().decode(stderr);
    assert.equal(code, 130, `${signal}: ${message}`);
    assert.match(message, new RegExp(`interrupted by ${signal}`));
    assert.deepEqual(leftovers(dir.path), [], "no decrypted data left behind");
    assert.deepEqual(await snapshotTree(data), before);
    await assert.rejects(Deno.lstat(`${dir.path}/elsewhere`), Deno.errors.NotFound);
  }
});
