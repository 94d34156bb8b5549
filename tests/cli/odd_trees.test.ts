/**
 * Trees that are awkward to back up, through the real CLI: names that are not UTF-8, and sparse
 * files whose holes must survive the round trip.
 */
import assert from "node:assert/strict";
import {
  assertOk,
  assertSameTree,
  entries,
  type Setup,
  setup,
  snapshotTree,
  tempDir,
} from "../helpers.ts";

/** Runs a shell script with `args` as $1…; Deno cannot create names that are not UTF-8. */
async function sh(script: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("sh", {
    args: ["-c", script, "sh", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, `sh failed: ${new TextDecoder().decode(stderr)}`);
}

/** data/ with keep.txt, sub/keep2 and two files whose names hold the bytes 0xFF 0xFE. */
async function treeWithNonUtf8Names(data: string): Promise<void> {
  await Deno.mkdir(`${data}/sub`, { recursive: true });
  await Deno.writeTextFile(`${data}/keep.txt`, "keep");
  await Deno.writeTextFile(`${data}/sub/keep2`, "keep too");
  await sh(`printf x > "$1/bad$(printf '\\377\\376').tmp"`, data);
  await sh(`printf y > "$1/sub/$(printf '\\377')odd.tmp"`, data);
  const names = [...Deno.readDirSync(data), ...Deno.readDirSync(`${data}/sub`)].map((e) => e.name);
  assert.equal(names.filter((n) => n.includes("\uFFFD")).length, 2, `not created: ${names}`);
}

function restoreTo(s: Setup, target: string) {
  return s.run(["restore", "svc", "--backup", "latest", "--yes", "--target", target]);
}

Deno.test("a file whose name is not UTF-8 can be excluded: backup exits 0, restore lacks it", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await treeWithNonUtf8Names(data);
  const s = await setup(dir.path, { svc: { path: data, exclude: ["**/*.tmp"] } });
  const backup = assertOk(await s.run(["backup", "svc"]));
  assert.doesNotMatch(backup.stderr, /UTF-8|warning/i);

  assertOk(await restoreTo(s, `${dir.path}/restored`));
  // What the backup should hold: the source without the excluded files (and sub's old mtime).
  const subTime = (await Deno.stat(`${data}/sub`)).mtime!;
  await sh(`rm "$1"/*.tmp "$1"/sub/*.tmp`, data);
  await Deno.utime(`${data}/sub`, subTime, subTime);
  assertSameTree(await snapshotTree(`${dir.path}/restored`), await snapshotTree(data));
});

Deno.test("without a matching exclude, a non-UTF-8 name still fails the backup clearly", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await treeWithNonUtf8Names(data);
  const s = await setup(dir.path, { svc: { path: data, exclude: ["**/*.log", "sub/"] } });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /bad.*\.tmp: its name is not valid UTF-8; rename it or exclude it/);
  assert.deepEqual(await entries(s.dest), []);
});
