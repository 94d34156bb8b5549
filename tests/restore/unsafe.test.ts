/**
 * Hostile archives: entries with absolute paths, `..`, or that would write through a symlink are
 * refused, and the restore target stays untouched. The archives are built by hand with the
 * user's own key, as an attacker who had it would.
 */
import assert from "node:assert/strict";
import { setup, snapshotTree, tempDir } from "../helpers.ts";
import { type Item, plantArchive } from "./support.ts";

const HOSTILE: { name: string; items: Item[] }[] = [
  {
    name: "absolute path",
    items: [{ path: "ok.txt", content: "x" }, { path: "/tmp/packrat-pwned", content: "x" }],
  },
  { name: "dot-dot", items: [{ path: "a/../../escape.txt", content: "x" }] },
  {
    name: "file through a symlink",
    items: [{ path: "link", type: "symlink", linkTarget: "/tmp" }, {
      path: "link/packrat-pwned",
      content: "x",
    }],
  },
  {
    name: "file over a symlink",
    items: [{ path: "passwd", type: "symlink", linkTarget: "/etc/passwd" }, {
      path: "passwd",
      content: "x",
    }],
  },
  {
    name: "hard link to outside",
    items: [{ path: "h", type: "hardlink", linkTarget: "../../etc/passwd" }],
  },
];

for (const { name, items } of HOSTILE) {
  Deno.test(`restore refuses a hostile archive (${name}); target untouched`, async () => {
    await using dir = await tempDir();
    const s = await setup(dir.path, { svc: { path: `${dir.path}/live` } });
    await Deno.mkdir(`${dir.path}/live`);
    await Deno.writeTextFile(`${dir.path}/live/data.txt`, "live");
    const before = await snapshotTree(`${dir.path}/live`);
    const service = `${s.dest}/testhost/svc`;
    await Deno.mkdir(service, { recursive: true });
    await plantArchive(s.keyFile, `${service}/20260101T000000.000Z.packrat`, items);

    const result = await s.run(["restore", "svc", "--backup", "latest", "--yes"]);
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /refusing (unsafe )?entry/);
    assert.deepEqual(await snapshotTree(`${dir.path}/live`), before);
    await assert.rejects(Deno.lstat("/tmp/packrat-pwned"), Deno.errors.NotFound);
    const verify = await s.run(["verify", "svc"]);
    assert.equal(verify.code, 7, "verify checks entries the same way");
  });
}
