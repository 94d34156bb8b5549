import assert from "node:assert/strict";
import {
  encodeEntryHeader,
  parseHeaderBlock,
  parsePaxRecords,
  SPARSE_COMMENT,
  type TarEntry,
} from "../../src/archive/tar.ts";

function roundTrip(
  entry: TarEntry,
): { raw: ReturnType<typeof parseHeaderBlock>; pax: Map<string, string> } {
  const bytes = encodeEntryHeader(entry).slice();
  if (bytes.length === 512) return { raw: parseHeaderBlock(bytes), pax: new Map() };
  const paxHeader = parseHeaderBlock(bytes.subarray(0, 512))!;
  assert.equal(paxHeader.typeflag, "x");
  const pax = parsePaxRecords(bytes.subarray(512, 512 + paxHeader.size));
  return { raw: parseHeaderBlock(bytes.subarray(bytes.length - 512)), pax };
}

const base: TarEntry = {
  path: "a.txt",
  type: "file",
  mode: 0o644,
  uid: 1000,
  gid: 100,
  size: 5,
  mtimeMs: 1_700_000_000_000,
};

Deno.test("plain ustar when everything fits; checksum verifies", () => {
  const { raw, pax } = roundTrip(base);
  assert.equal(pax.size, 0);
  assert.deepEqual(
    {
      name: raw!.name,
      mode: raw!.mode,
      uid: raw!.uid,
      size: raw!.size,
      mtime: raw!.mtime,
      typeflag: raw!.typeflag,
    },
    { name: "a.txt", mode: 0o644, uid: 1000, size: 5, mtime: 1_700_000_000, typeflag: "0" },
  );
});

Deno.test("PAX records for long, unicode and control-character names, big sizes and ids", () => {
  const long = `${"d".repeat(150)}/file`;
  assert.equal(roundTrip({ ...base, path: long }).pax.get("path"), long);
  assert.equal(roundTrip({ ...base, path: "café.txt" }).pax.get("path"), "café.txt");
  assert.equal(roundTrip({ ...base, path: "new\nline" }).pax.get("path"), "new\nline");
  const big = roundTrip({ ...base, size: 9 * 1024 ** 3, uid: 3_000_000, gid: 4_000_000 });
  assert.equal(big.pax.get("size"), String(9 * 1024 ** 3));
  assert.equal(big.pax.get("uid"), "3000000");
  assert.equal(big.pax.get("gid"), "4000000");
  const link = roundTrip({ ...base, type: "symlink", size: 0, linkTarget: "t".repeat(120) });
  assert.equal(link.pax.get("linkpath"), "t".repeat(120));
  assert.equal(link.raw!.typeflag, "2");
});

Deno.test("mtimes keep their milliseconds, before 1970 too", () => {
  assert.equal(
    roundTrip({ ...base, mtimeMs: 1_700_000_000_123 }).pax.get("mtime"),
    "1700000000.123",
  );
  assert.equal(roundTrip({ ...base, mtimeMs: -1500 }).pax.get("mtime"), "-1.500");
  assert.equal(roundTrip({ ...base, mtimeMs: -2000 }).pax.get("mtime"), "-2.000");
  assert.equal(roundTrip({ ...base, mtimeMs: 5 }).pax.get("mtime"), "0.005");
});

Deno.test("setuid/setgid/sticky bits survive; file type bits do not leak into mode", () => {
  const { raw } = roundTrip({ ...base, mode: 0o104755 });
  assert.equal(raw!.mode, 0o4755);
});

Deno.test("a sparse file is marked with a PAX comment record, which no other entry gets", () => {
  const sparse = roundTrip({ ...base, sparse: true });
  assert.deepEqual([...sparse.pax], [["comment", SPARSE_COMMENT]]);
  assert.equal(roundTrip({ ...base, sparse: false }).pax.size, 0);
});
