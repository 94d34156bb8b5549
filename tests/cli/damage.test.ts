/**
 * A damaged, truncated or foreign archive never reaches the restore target: each case fails with
 * its own message and exit code, and the target is exactly as before.
 */
import assert from "node:assert/strict";
import {
  assertOk,
  findArchives,
  packrat,
  PASSWORD,
  type Setup,
  setup,
  snapshotTree,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";

async function prepared(dir: string): Promise<{ s: Setup; archive: string; target: string }> {
  const data = `${dir}/data`;
  await Deno.mkdir(data);
  for (let i = 0; i < 40; i++) {
    await Deno.writeTextFile(`${data}/file-${i}.txt`, `${i} `.repeat(20_000 + i * 997));
  }
  await writeRandomFile(`${data}/random.bin`, 3 * 1024 * 1024);
  const s = await setup(dir, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  const [archive] = await findArchives(s.dest, "svc");
  const target = `${dir}/target`;
  await Deno.mkdir(target);
  await Deno.writeTextFile(`${target}/precious.txt`, "live data that must survive");
  return { s, archive, target };
}

async function assertUntouched(
  dir: string,
  target: string,
  before: Awaited<ReturnType<typeof snapshotTree>>,
) {
  assert.deepEqual(await snapshotTree(target), before);
  const stray = [...Deno.readDirSync(dir)].filter((e) => e.name.includes("packrat-restore"));
  assert.deepEqual(stray, [], "no staging directory is left behind");
}

Deno.test("one flipped byte anywhere: clear damage error, exit 7, target untouched", async () => {
  await using dir = await tempDir();
  const { s, archive, target } = await prepared(dir.path);
  const before = await snapshotTree(target);
  const original = await Deno.readFile(archive);
  assert.ok(original.length > 3 * 1024 * 1024, "archive spans several chunks");
  const positions = [
    0,
    9,
    40,
    original.length >> 2,
    original.length >> 1,
    original.length - 200,
    original.length - 1,
  ];
  for (const position of positions) {
    const bad = original.slice();
    bad[position] ^= 0x20;
    await Deno.writeFile(archive, bad);
    const result = await s.run([
      "restore",
      "svc",
      "--backup",
      "latest",
      "--target",
      target,
      "--yes",
    ]);
    assert.equal(result.code, 7, `byte ${position}: ${result.stderr}`);
    assert.match(result.stderr, /damaged|tampered|not a Packrat archive/, `byte ${position}`);
    assert.doesNotMatch(result.stderr, /truncated|different key/, `byte ${position}`);
    await assertUntouched(dir.path, target, before);
    const verify = await s.run(["verify", "svc"]);
    assert.equal(verify.code, 7, `verify, byte ${position}`);
  }
  await Deno.writeFile(archive, original);
  assertOk(await s.run(["verify", "svc"]));
});

Deno.test("a truncated archive says truncated, exit 7, target untouched", async () => {
  await using dir = await tempDir();
  const { s, archive, target } = await prepared(dir.path);
  const before = await snapshotTree(target);
  const original = await Deno.readFile(archive);
  for (const length of [20, original.length >> 1, original.length - 16, original.length - 1]) {
    await Deno.writeFile(archive, original.subarray(0, length));
    const result = await s.run([
      "restore",
      "svc",
      "--backup",
      "latest",
      "--target",
      target,
      "--yes",
    ]);
    assert.equal(result.code, 7, `length ${length}: ${result.stderr}`);
    assert.match(result.stderr, /is truncated/, `length ${length}`);
    await assertUntouched(dir.path, target, before);
  }
});

Deno.test("the wrong key says so, exit 4, target untouched", async () => {
  await using dir = await tempDir();
  const { s, target } = await prepared(dir.path);
  const before = await snapshotTree(target);
  await Deno.writeTextFile(`${dir.path}/pw2`, "a different password\n");
  assertOk(
    await packrat([
      "init",
      "--password-file",
      `${dir.path}/pw2`,
      "--key-file",
      s.keyFile,
      "--force",
    ]),
  );
  const result = await s.run(["restore", "svc", "--backup", "latest", "--target", target, "--yes"]);
  assert.equal(result.code, 4, result.stderr);
  assert.match(result.stderr, /encrypted with a different key/);
  assert.doesNotMatch(result.stderr, new RegExp(PASSWORD));
  await assertUntouched(dir.path, target, before);
  const decrypt = await s.run(["decrypt", (await findArchives(s.dest, "svc"))[0]]);
  assert.equal(decrypt.code, 4);
  assert.equal(decrypt.stdout, "");
});

Deno.test("decrypt --output keeps the file only when the whole archive authenticated", async () => {
  await using dir = await tempDir();
  const { s, archive } = await prepared(dir.path);
  const good = `${dir.path}/good.tar.zst`;
  assertOk(await s.run(["decrypt", archive, "--output", good]));
  const listing = await new Deno.Command("sh", {
    args: ["-c", `zstd -dc "$1" | tar -t`, "sh", good],
  })
    .output();
  assert.equal(listing.code, 0);
  assert.match(new TextDecoder().decode(listing.stdout), /random\.bin/);

  const original = await Deno.readFile(archive);
  await Deno.writeFile(archive, original.subarray(0, original.length - 100));
  const bad = `${dir.path}/bad.tar.zst`;
  const result = await s.run(["decrypt", archive, "--output", bad]);
  assert.equal(result.code, 7);
  assert.match(result.stderr, /truncated/);
  const left = [...Deno.readDirSync(dir.path)].map((e) => e.name).filter((n) =>
    n.startsWith("bad")
  );
  assert.deepEqual(left, []);
});
