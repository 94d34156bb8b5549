/** packArchive → unpackArchive on real trees: what the walk meets while an archive is written. */
import assert from "node:assert/strict";
import { packArchive, type PackResult } from "../../src/archive/pack.ts";
import type { TarEntry } from "../../src/archive/tar.ts";
import { unpackArchive } from "../../src/archive/unpack.ts";
import { deriveKey } from "../../src/crypto/key.ts";
import { tempDir } from "../helpers.ts";

// Cheap KDF parameters: these tests are about the archive, not about Argon2id's cost.
const master = await deriveKey("pack", {
  algorithm: "argon2id",
  memoryKiB: 64,
  iterations: 1,
  parallelism: 1,
  salt: new Uint8Array(16).fill(7),
});

/** Packs `root` into memory; `onProgress` runs synchronously every 256 entries. */
async function pack(
  root: string,
  onProgress: (entries: number) => void = () => {},
): Promise<{ archive: Uint8Array; result: PackResult; warnings: string[] }> {
  const parts: Uint8Array[] = [];
  const warnings: string[] = [];
  const result = await packArchive({
    root,
    exclude: [],
    master,
    meta: { service: "t" },
    sink: (bytes) => {
      parts.push(bytes.slice());
      return Promise.resolve();
    },
    warn: (message) => warnings.push(message),
    onProgress: (progress) => onProgress(progress.entries),
  });
  const archive = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) (archive.set(p, offset), offset += p.length);
  return { archive, result, warnings };
}

/** Every entry of a packed archive; unpacking verifies it end to end. */
async function unpack(archive: Uint8Array): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  await unpackArchive(ReadableStream.from([archive]), master, "test", {
    entry(entry) {
      entries.push(entry);
      return undefined;
    },
  });
  return entries;
}

Deno.test("a directory replaced by a file while it is archived: a warning, the archive verifies", async () => {
  await using dir = await tempDir();
  // "./" and f001…f062 are entries 1–63, so the directory "z/" is the 64th: progress is first
  // reported after it.
  for (let i = 1; i <= 62; i++) {
    await Deno.writeTextFile(`${dir.path}/f${String(i).padStart(3, "0")}`, `${i}`);
  }
  await Deno.mkdir(`${dir.path}/z`);
  await Deno.writeTextFile(`${dir.path}/z/inner`, "inner");
  const swappedAt: number[] = [];
  const { archive, result, warnings } = await pack(dir.path, (entries) => {
    swappedAt.push(entries);
    // Right after "z/" went into the archive, before the walk lists it.
    Deno.removeSync(`${dir.path}/z`, { recursive: true });
    Deno.writeTextFileSync(`${dir.path}/z`, "now a file");
  });
  assert.deepEqual(swappedAt, [64]);
  assert.equal(result.warnings, 1);
  assert.match(warnings[0], /\/z is no longer a directory \(replaced during the backup\)/);
  const entries = await unpack(archive);
  assert.equal(entries.length, 64);
  assert.deepEqual(
    entries.slice(-2).map((e) => [e.path, e.type]),
    [["f062", "file"], ["z/", "dir"]],
  );
});

Deno.test("only files with holes are marked sparse, and the mark comes back on unpack", async () => {
  await using dir = await tempDir();
  // 8 MiB with 4 KiB of data in the middle: the rest is holes.
  using holes = await Deno.open(`${dir.path}/holes`, { write: true, create: true });
  await holes.seek(4 * 1024 * 1024, Deno.SeekMode.Start);
  await holes.write(new Uint8Array(4096).fill(1));
  await holes.truncate(8 * 1024 * 1024);
  await Deno.writeFile(`${dir.path}/zeros`, new Uint8Array(1024 * 1024));
  await Deno.writeTextFile(`${dir.path}/text`, "text");
  const info = await Deno.stat(`${dir.path}/holes`);
  assert.ok(info.blocks !== null && info.blocks * 512 < info.size, "no holes on this filesystem");

  const { archive } = await pack(dir.path);
  const entries = await unpack(archive);
  assert.deepEqual(
    entries.map((e) => [e.path, e.sparse ?? false]),
    [["./", false], ["holes", true], ["text", false], ["zeros", false]],
  );
});
