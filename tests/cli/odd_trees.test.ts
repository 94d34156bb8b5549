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

const MiB = 1024 * 1024;

/** Writes `bytes` at `offset` of an open file. */
async function writeAt(file: Deno.FsFile, offset: number, bytes: Uint8Array): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/** Non-zero, varied bytes (a zero 4 KiB block would legitimately become a hole). */
function data(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = ((i * 2654435761 + seed) >>> 24) | 1;
  return bytes;
}

/** Byte-for-byte comparison; cmp is ~8× faster than hashing a 1 GiB file here. */
async function assertSameContent(actual: string, expected: string): Promise<void> {
  const { code, stdout } = await new Deno.Command("cmp", { args: [actual, expected] }).output();
  assert.equal(code, 0, `${actual} differs: ${new TextDecoder().decode(stdout)}`);
}

const allocated = async (path: string) => (await Deno.stat(path)).blocks! * 512;

Deno.test("a sparse file keeps its holes on restore; a zero-filled file stays allocated", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/data`;
  await Deno.mkdir(source);
  // A 1 GiB disk image holding 1 MiB of data: in the middle, at an odd offset, and at the end.
  {
    using image = await Deno.open(`${source}/vm.img`, { write: true, create: true });
    await image.truncate(1024 * MiB);
    await writeAt(image, 100 * MiB, data(512 * 1024, 1));
    await writeAt(image, 300 * MiB + 1000, data(5000, 2));
    await writeAt(image, 1024 * MiB - 512 * 1024, data(512 * 1024, 3));
  }
  // Preallocated and zero-filled, as databases do: must come back allocated.
  await Deno.writeFile(`${source}/prealloc`, new Uint8Array(4 * MiB));
  assert.ok(await allocated(`${source}/vm.img`) <= 2 * MiB, "this filesystem has no holes");
  assert.ok(await allocated(`${source}/prealloc`) >= 4 * MiB);

  const s = await setup(dir.path, { svc: { path: source } });
  const backup = assertOk(await s.run(["backup", "svc"]));
  assert.doesNotMatch(backup.stderr, /warning/i);
  const restored = `${dir.path}/restored`;
  assertOk(await restoreTo(s, restored));

  await assertSameContent(`${restored}/vm.img`, `${source}/vm.img`);
  await assertSameContent(`${restored}/prealloc`, `${source}/prealloc`);
  const image = await Deno.stat(`${restored}/vm.img`);
  assert.equal(image.size, 1024 * MiB);
  assert.equal(image.mtime?.getTime(), (await Deno.stat(`${source}/vm.img`)).mtime?.getTime());
  const imageAllocated = await allocated(`${restored}/vm.img`);
  assert.ok(imageAllocated <= 2 * MiB, `the restored image allocates ${imageAllocated} bytes`);
  const preallocAllocated = await allocated(`${restored}/prealloc`);
  assert.ok(preallocAllocated >= 4 * MiB, `prealloc allocates only ${preallocAllocated} bytes`);
});
