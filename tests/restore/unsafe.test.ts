/**
 * Hostile archives: entries with absolute paths, `..`, or that would write through a symlink are
 * refused, and the restore target stays untouched. The archives are built by hand with the
 * user's own key, as an attacker who had it would.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { encodeEntryHeader, END_OF_ARCHIVE, padded, type TarEntry } from "../../src/archive/tar.ts";
import { encodeHeader, newHeader } from "../../src/crypto/header.ts";
import { readKeyFile } from "../../src/crypto/key.ts";
import { ChunkEncryptor } from "../../src/crypto/stream.ts";
import { setup, snapshotTree, tempDir } from "../helpers.ts";

type Item = Partial<TarEntry> & { path: string; content?: string };

function tarOf(items: Item[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const content = new TextEncoder().encode(item.content ?? "");
    parts.push(
      encodeEntryHeader({
        type: "file",
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtimeMs: 0,
        ...item,
        size: item.type && item.type !== "file" ? 0 : content.length,
      }).slice(),
    );
    if (!item.type || item.type === "file") {
      const block = new Uint8Array(padded(content.length));
      block.set(content);
      parts.push(block);
    }
  }
  parts.push(END_OF_ARCHIVE);
  const tar = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) (tar.set(p, offset), offset += p.length);
  return tar;
}

async function plantArchive(keyFile: string, file: string, items: Item[]): Promise<void> {
  const master = await readKeyFile(keyFile);
  const header = newHeader(master, {});
  const out = await Deno.open(file, { write: true, create: true, truncate: true });
  const encryptor = await ChunkEncryptor.start(
    master,
    header,
    await encodeHeader(header),
    async (b) => {
      await out.write(b);
    },
  );
  await encryptor.write(zlib.zstdCompressSync(tarOf(items)));
  await encryptor.close();
  out.close();
}

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
