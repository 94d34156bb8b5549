/**
 * Destination failures a retry cannot fix, through the CLI: reported with the real cause, tried
 * once, and leaving nothing behind.
 */
import assert from "node:assert/strict";
import { filesUnder, setup, tempDir, writeRandomFile } from "../helpers.ts";

async function run(command: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output();
  assert.ok(out.success, `${command} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("a full local destination: the real error, not retried, no partial file left", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/big.bin`, 100 * 1024 * 1024);
  // The destination is a 20 MB filesystem of its own; staging stays on the temp dir's.
  const disk = `${dir.path}/disk`;
  await Deno.mkdir(disk);
  await run("mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", disk);
  try {
    const s = await setup(dir.path, { svc: { path: data } }, { local: { path: disk } });
    const result = await s.run(["backup", "svc"]);
    assert.equal(result.code, 5, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, /local: cannot store .*: No space left on device/i);
    assert.doesNotMatch(result.stderr, /Bad resource/i);
    assert.doesNotMatch(result.stderr, /retrying/, "a full disk is not retried");
    assert.match(result.stdout, /\n {2}local\s+FAILED\s+local: .*No space left on device/);
    assert.deepEqual(await filesUnder(disk), [], "no partial file and no archive");
  } finally {
    await run("umount", disk);
  }
});
