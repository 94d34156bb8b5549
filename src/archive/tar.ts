/**
 * POSIX (PAX) tar headers: writing them for the archive, parsing them on restore.
 *
 * Names longer than 100 bytes or not plain ASCII, long link targets, sizes of 8 GiB and more,
 * large ids and sub-second mtimes go into a PAX extended header (`x`) before the entry, so GNU
 * tar, bsdtar and Packrat read the same archive. So does the sparse mark, as a `comment` record:
 * POSIX tells readers to ignore comments, so other tools extract the file as usual.
 *
 * @module
 */

export const BLOCK = 512;

export type EntryType = "file" | "dir" | "symlink" | "hardlink";

export interface TarEntry {
  /** Relative `/`-separated path; directories end with `/`, the root is `./`. */
  readonly path: string;
  readonly type: EntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of content that follow (files only). */
  readonly size: number;
  readonly mtimeMs: number;
  /** Target of a symlink, or the earlier archive path of a hard link. */
  readonly linkTarget?: string;
  /**
   * A file with holes (less allocated than its size). Its content is stored in full; a restore
   * may leave its all-zero blocks unwritten.
   */
  readonly sparse?: boolean;
}

/** The PAX `comment` value that marks a sparse file (see docs/FORMAT.md, section 6). */
export const SPARSE_COMMENT = "packrat:sparse";

const TYPE_FLAGS: Record<EntryType, string> = { file: "0", dir: "5", symlink: "2", hardlink: "1" };
const encoder = new TextEncoder();
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/** Reused for every header: a backup encodes one header per file, and allocations add up. */
let scratch = new Uint8Array(64 * 1024);

/**
 * The header block(s) for an entry: a PAX header first when ustar cannot say it all.
 * Returns a view of a buffer that the next call overwrites: copy it or use it at once.
 */
export function encodeEntryHeader(entry: TarEntry): Uint8Array {
  const link = entry.linkTarget ?? "";
  const pax: string[] = [];
  if (needsPax(entry.path)) pax.push(paxRecord("path", entry.path));
  if (needsPax(link)) pax.push(paxRecord("linkpath", link));
  if (entry.sparse) pax.push(SPARSE_RECORD);
  if (entry.size > MAX_OCTAL_12) pax.push(paxRecord("size", String(entry.size)));
  if (entry.uid > MAX_OCTAL_8) pax.push(paxRecord("uid", String(entry.uid)));
  if (entry.gid > MAX_OCTAL_8) pax.push(paxRecord("gid", String(entry.gid)));
  const seconds = Math.floor(entry.mtimeMs / 1000);
  if (entry.mtimeMs % 1000 !== 0 || seconds < 0 || seconds > MAX_OCTAL_12) {
    pax.push(paxRecord("mtime", paxTime(entry.mtimeMs)));
  }

  let mainAt = 0;
  if (pax.length > 0) {
    const records = pax.join("");
    // Each UTF-16 unit becomes at most 3 bytes.
    const room = 2 * BLOCK + padded(records.length * 3);
    if (scratch.length < room) scratch = new Uint8Array(room);
    const size = encoder.encodeInto(records, scratch.subarray(BLOCK)).written;
    const recordBlocks = padded(size);
    scratch.fill(0, BLOCK + size, BLOCK + recordBlocks);
    ustarBlock(scratch.subarray(0, BLOCK), {
      name: `PaxHeaders/${entry.path.replace(/\/$/, "")}`,
      mode: 0o644,
      uid: 0,
      gid: 0,
      size,
      mtime: 0,
      type: "x",
      link: "",
    });
    mainAt = BLOCK + recordBlocks;
  }
  ustarBlock(scratch.subarray(mainAt, mainAt + BLOCK), {
    name: entry.path,
    mode: entry.mode & 0o7777,
    uid: Math.min(entry.uid, MAX_OCTAL_8),
    gid: Math.min(entry.gid, MAX_OCTAL_8),
    size: entry.size > MAX_OCTAL_12 ? 0 : entry.size,
    mtime: Math.min(Math.max(seconds, 0), MAX_OCTAL_12),
    type: TYPE_FLAGS[entry.type],
    link,
  });
  return scratch.subarray(0, mainAt + BLOCK);
}

/** Decimal seconds with milliseconds, sign first: -1500 ms is "-1.500", not "-2.500". */
function paxTime(ms: number): string {
  const abs = Math.abs(ms);
  return `${ms < 0 ? "-" : ""}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, "0")}`;
}

/** Names longer than ustar's 100 bytes, or not plain ASCII, go into PAX records. */
function needsPax(text: string): boolean {
  return text.length > 100 || /[^ -~]/.test(text);
}

/** Rounds a content length up to whole blocks. */
export function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

const SPARSE_RECORD = paxRecord("comment", SPARSE_COMMENT);

/** Two zero blocks end a tar archive. */
export const END_OF_ARCHIVE = new Uint8Array(2 * BLOCK);

/** A PAX record "LEN key=value\n", where LEN counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = encoder.encode(` ${key}=${value}\n`).length;
  let length = body + String(body).length;
  if (String(length).length !== String(body).length) length = body + String(length).length;
  return `${length} ${key}=${value}\n`;
}

interface UstarFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  link: string;
}

/** Writes one ustar header block into `block` (512 bytes). Long text is cut at 100 bytes. */
function ustarBlock(block: Uint8Array, f: UstarFields): void {
  block.fill(0);
  encoder.encodeInto(f.name, block.subarray(0, 100));
  octal(block, 100, 8, f.mode);
  octal(block, 108, 8, f.uid);
  octal(block, 116, 8, f.gid);
  octal(block, 124, 12, f.size);
  octal(block, 136, 12, f.mtime);
  block.fill(0x20, 148, 156);
  block[156] = f.type.charCodeAt(0);
  encoder.encodeInto(f.link, block.subarray(157, 257));
  encoder.encodeInto("ustar\u000000", block.subarray(257, 265));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i];
  octal(block, 148, 7, sum);
}

function octal(block: Uint8Array, offset: number, width: number, value: number): void {
  const text = value.toString(8).padStart(width - 1, "0");
  for (let i = 0; i < width - 1; i++) block[offset + i] = text.charCodeAt(i);
  block[offset + width - 1] = 0;
}

/** Thrown for a header that is not valid tar. */
export class TarFormatError extends Error {}

const decoder = new TextDecoder();

function field(block: Uint8Array, offset: number, width: number): string {
  let end = offset;
  while (end < offset + width && block[end] !== 0) end++;
  return decoder.decode(block.subarray(offset, end));
}

function numeric(block: Uint8Array, offset: number, width: number): number {
  if (block[offset] & 0x80) {
    // GNU base-256 for values that do not fit in octal.
    let value = block[offset] & 0x7f;
    for (let i = 1; i < width; i++) value = value * 256 + block[offset + i];
    return value;
  }
  const text = field(block, offset, width).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad numeric field "${text}"`);
  return parseInt(text, 8);
}

/** One raw header block as parsed, before PAX overrides. */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}

/** Parses a header block; `undefined` for an all-zero block (end of archive). */
export function parseHeaderBlock(block: Uint8Array): RawHeader | undefined {
  if (block.every((b) => b === 0)) return undefined;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  if (numeric(block, 148, 8) !== sum) throw new TarFormatError("header checksum mismatch");
  const prefix = decoder.decode(block.subarray(257, 262)) === "ustar" ? field(block, 345, 155) : "";
  const name = field(block, 0, 100);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    mode: numeric(block, 100, 8),
    uid: numeric(block, 108, 8),
    gid: numeric(block, 116, 8),
    size: numeric(block, 124, 12),
    mtime: numeric(block, 136, 12),
    typeflag: String.fromCharCode(block[156] || 0x30),
    linkname: field(block, 157, 100),
  };
}

/** Parses PAX records into key/value pairs. */
export function parsePaxRecords(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let offset = 0;
  while (offset < bytes.length) {
    let space = offset;
    while (space < bytes.length && bytes[space] !== 0x20) space++;
    const length = parseInt(decoder.decode(bytes.subarray(offset, space)), 10);
    if (!(length > 0) || offset + length > bytes.length) {
      if (bytes.subarray(offset).every((b) => b === 0)) break;
      throw new TarFormatError("bad PAX record");
    }
    const record = decoder.decode(bytes.subarray(space + 1, offset + length - 1));
    const eq = record.indexOf("=");
    if (eq < 0) throw new TarFormatError("bad PAX record");
    out.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return out;
}
