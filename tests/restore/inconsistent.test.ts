/**
 * Archives whose entries contradict each other (a path twice, a path that is both a file and a
 * directory, a hard link to nothing earlier) are damaged: verify says so (exit 7) — it must
 * catch whatever restore would trip over — and restore refuses them the same way, exit 7,
 * with a plain message and the target untouched.
 */
import assert from "node:assert/strict";
import { setup, snapshotTree, tempDir } from "../helpers.ts";
import { type Item, leftovers, plantArchive } from "./support.ts";

const ROOT_DIR: Item = { path: "./", type: "dir", mode: 0o755 };

const INCONSISTENT: { name: string; items: Item[]; message: RegExp }[] = [
  {
    name: "the same file twice",
    items: [ROOT_DIR, { path: "a.txt", content: "1" }, { path: "a.txt", content: "2" }],
    message: /"a\.txt": the path occurs twice/,
  },
  {
    name: "the same directory twice",
    items: [ROOT_DIR, { path: "d/", type: "dir" }, { path: "d/", type: "dir" }],
    message: /"d\/": the path occurs twice/,
  },
  {
    name: "a directory where a file was",
    items: [ROOT_DIR, { path: "x", content: "1" }, { path: "x/", type: "dir" }],
    message: /"x\/": the path is used both as a file and as a directory/,
  },
  {
    name: "a file where a directory was",
    items: [ROOT_DIR, { path: "x/", type: "dir" }, { path: "x", content: "1" }],
    message: /"x": the path is used both as a file and as a directory/,
  },
  {
    name: "a file inside a file",
    items: [ROOT_DIR, { path: "x", content: "1" }, { path: "x/y", content: "2" }],
    message: /"x\/y": "x" is a file earlier in the archive/,
  },
  {
    name: "a file where an implied directory was",
    items: [ROOT_DIR, { path: "x/y", content: "1" }, { path: "x", content: "2" }],
    message: /"x": the path is used both as a file and as a directory/,
  },
  {
    name: "a hard link to a path not in the archive",
    items: [ROOT_DIR, { path: "h", type: "hardlink", linkTarget: "missing" }],
    message: /"h": it is a hard link to "missing", which is not a file earlier/,
  },
  {
    name: "a hard link before its file",
    items: [ROOT_DIR, { path: "h", type: "hardlink", linkTarget: "f" }, {
      path: "f",
      content: "1",
    }],
    message: /"h": it is a hard link to "f", which is not a file earlier/,
  },
  {
    name: "a hard link to a directory",
    items: [ROOT_DIR, { path: "d/", type: "dir" }, {
      path: "h",
      type: "hardlink",
      linkTarget: "d",
    }],
    message: /"h": it is a hard link to "d", which is not a file earlier/,
  },
  {
    name: "a root that is a file",
    items: [{ path: ".", content: "1" }],
    message: /the root of the archive must be a directory/,
  },
];

for (const { name, items, message } of INCONSISTENT) {
  Deno.test(`verify and restore refuse an inconsistent archive (${name}): exit 7`, async () => {
    await using dir = await tempDir();
    const live = `${dir.path}/live`;
    const s = await setup(dir.path, { svc: { path: live } });
    await Deno.mkdir(live);
    await Deno.writeTextFile(`${live}/data.txt`, "live");
    const before = await snapshotTree(live);
    const service = `${s.dest}/testhost/svc`;
    await Deno.mkdir(service, { recursive: true });
    await plantArchive(s.keyFile, `${service}/20260101T000000.000Z.packrat`, items);

    const verify = await s.run(["verify", "svc"]);
    assert.equal(verify.code, 7, verify.stderr);
    assert.match(verify.stderr, message);

    for (const args of [["--yes"], ["--yes", "--include", "**"], ["--target", `${dir.path}/new`]]) {
      const restore = await s.run(["restore", "svc", "--backup", "latest", ...args]);
      assert.equal(restore.code, 7, `${args}: ${restore.stderr}`);
      assert.match(restore.stderr, message);
      assert.doesNotMatch(restore.stderr, /unexpected failure|\n {4}at /);
      assert.deepEqual(await snapshotTree(live), before);
      assert.deepEqual(leftovers(dir.path), []);
      await assert.rejects(Deno.lstat(`${dir.path}/new`), Deno.errors.NotFound);
    }
  });
}

Deno.test("a hard link to a file earlier in the archive verifies and restores", async () => {
  await using dir = await tempDir();
  const s = await setup(dir.path, { svc: { path: `${dir.path}/live` } });
  const service = `${s.dest}/testhost/svc`;
  await Deno.mkdir(service, { recursive: true });
  await plantArchive(s.keyFile, `${service}/20260101T000000.000Z.packrat`, [
    ROOT_DIR,
    { path: "d/", type: "dir", mode: 0o755 },
    { path: "d/f", content: "shared" },
    { path: "h", type: "hardlink", linkTarget: "d/f" },
  ]);
  assert.equal((await s.run(["verify", "svc"])).code, 0);
  const target = `${dir.path}/restored`;
  const restore = await s.run(["restore", "svc", "--backup", "latest", "--target", target]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal((await Deno.stat(`${target}/h`)).ino, (await Deno.stat(`${target}/d/f`)).ino);
});
