/**
 * Reads an archive: source → STREAM decryption → zstd frames (parallel Workers) → tar entries
 * handed to a sink. Nothing here touches the filesystem; restore and verify supply the sink.
 *
 * @module
 */
import { handled } from "../io/heap.ts";
import { ArchiveDamagedError } from "../errors.ts";
import type { ArchiveHeader } from "../crypto/header.ts";
import type { MasterKey } from "../crypto/key.ts";
import { decryptStream } from "../crypto/stream.ts";
import { settleLater } from "../io/settle.ts";
import { ByteQueue } from "../io/byte_queue.ts";
import {
  BLOCK,
  type EntryType,
  padded,
  parseHeaderBlock,
  parsePaxRecords,
  type RawHeader,
  SPARSE_COMMENT,
  type TarEntry,
  TarFormatError,
} from "./tar.ts";
import { FrameScanner, ZstdFormatError } from "./zstd_frames.ts";
import { type BufferPair, newBufferPair, SEGMENT_SIZE, ZstdPool } from "./zstd_pool.ts";

/** Receives file contents of one entry, in order. */
export interface ContentSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

/** Receives the entries of an archive. Entry types Packrat does not restore are skipped. */
export interface ArchiveSink {
  /** Returns where the entry's content goes, or undefined to skip it. */
  entry(entry: TarEntry): ContentSink | undefined;
}

export interface UnpackResult {
  header: ArchiveHeader;
  entries: number;
  bytes: number;
}

/** Decrypts, decompresses and parses `input`, passing each entry to `sink`. */
export async function unpackArchive(
  input: ReadableStream<Uint8Array>,
  master: MasterKey,
  source: string,
  sink: ArchiveSink,
  { lowPriority = false }: { lowPriority?: boolean } = {},
): Promise<UnpackResult> {
  let header: ArchiveHeader | undefined;
  const pool = new ZstdPool(undefined, { lowPriority });
  try {
    const plain = input.pipeThrough(decryptStream(master, source, (h) => header = h));
    const { entries, bytes } = await readTar(decompress(plain, pool), sink, source);
    return { header: header!, entries, bytes };
  } catch (error) {
    if (error instanceof ZstdFormatError || error instanceof TarFormatError) {
      throw new ArchiveDamagedError(
        `${source}: the decrypted payload is not a valid archive (${error.message})`,
      );
    }
    throw error;
  } finally {
    pool.close();
  }
}

/** Decompressed bytes lent by the decompression stage; `release` hands the buffer back. */
interface Piece {
  bytes: Uint8Array;
  release(): void;
}

/**
 * Splits the zstd stream into frames and decompresses them in the workers, several at once,
 * yielding the results in order. A fixed set of buffer pairs is reused, so memory stays flat.
 */
async function* decompress(
  compressed: ReadableStream<Uint8Array>,
  pool: ZstdPool,
): AsyncGenerator<Piece> {
  const scanner = new FrameScanner(SEGMENT_SIZE + 64 * 1024);
  const free: BufferPair[] = [];
  const inFlight: Promise<Piece>[] = [];
  const limit = pool.size * 2;
  const dispatch = (length: number) => {
    handled(length);
    const pair = free.pop() ?? newBufferPair();
    scanner.takeInto(new Uint8Array(pair.input), length);
    inFlight.push(settleLater(
      pool.run("decompress", pair.input, length, pair.output).then((done) => ({
        bytes: new Uint8Array(done.output, 0, done.outputLength),
        release: () => free.push({ input: done.input, output: done.output }),
      })),
    ));
  };
  for await (const bytes of compressed) {
    scanner.push(bytes);
    for (let length = scanner.nextFrame(); length !== undefined; length = scanner.nextFrame()) {
      dispatch(length);
      if (inFlight.length >= limit) yield await inFlight.shift()!;
    }
  }
  while (inFlight.length > 0) yield await inFlight.shift()!;
  if (scanner.buffered > 0) throw new ZstdFormatError("the compressed payload ends mid-frame");
}

const TYPES: Record<string, EntryType> = {
  "0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "5": "dir",
};

async function readTar(
  pieces: AsyncGenerator<Piece>,
  sink: ArchiveSink,
  source: string,
): Promise<{ entries: number; bytes: number }> {
  const queue = new ByteQueue();
  let lent: Piece | undefined;
  const pull = async () => {
    // The queue may still point into the lent buffer (a partial header): copy that out first.
    queue.compact();
    lent?.release();
    const { value, done } = await pieces.next();
    lent = done ? undefined : value;
    if (lent) queue.push(lent.bytes);
    return !done;
  };
  const need = async (n: number) => {
    while (queue.length < n) {
      if (!(await pull())) {
        throw new ArchiveDamagedError(`${source}: the archive's tar stream ends early`);
      }
    }
  };
  let entries = 0;
  let bytes = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  const decoder = new TextDecoder();

  for (;;) {
    await need(BLOCK);
    const raw = parseHeaderBlock(queue.take(BLOCK));
    if (!raw) break;
    if ("xgLK".includes(raw.typeflag)) {
      await need(padded(raw.size));
      const body = queue.take(padded(raw.size)).subarray(0, raw.size);
      if (raw.typeflag === "x") pax = parsePaxRecords(body);
      else if (raw.typeflag === "L") longName = decoder.decode(body).replace(/\0+$/, "");
      else if (raw.typeflag === "K") longLink = decoder.decode(body).replace(/\0+$/, "");
      continue;
    }
    const type = TYPES[raw.typeflag];
    const entry = toEntry(raw, pax, type ?? "file", longName, longLink);
    pax = new Map();
    longName = longLink = undefined;
    entries++;
    const content = type ? sink.entry(entry) : undefined;
    const size = type === "file" || !type ? entry.size : 0;
    let remaining = size;
    while (remaining > 0) {
      await need(1);
      const piece = queue.take(Math.min(remaining, queue.length));
      content?.write(piece);
      remaining -= piece.length;
    }
    bytes += size;
    await need(padded(size) - size);
    queue.take(padded(size) - size);
    content?.close();
  }
  // Read to the end so the decryption stage authenticates the final chunk and end marker.
  while (await pull()) queue.take(queue.length);
  return { entries, bytes };
}

function toEntry(
  raw: RawHeader,
  pax: Map<string, string>,
  type: EntryType,
  longName?: string,
  longLink?: string,
): TarEntry {
  const number = (key: string, fallback: number) => {
    const value = pax.get(key);
    return value === undefined ? fallback : Number(value);
  };
  const mtime = pax.get("mtime");
  return {
    path: pax.get("path") ?? longName ?? raw.name,
    type,
    mode: raw.mode,
    uid: number("uid", raw.uid),
    gid: number("gid", raw.gid),
    size: number("size", raw.size),
    mtimeMs: mtime === undefined ? raw.mtime * 1000 : Math.round(Number(mtime) * 1000),
    linkTarget: pax.get("linkpath") ?? longLink ?? raw.linkname,
    sparse: pax.get("comment") === SPARSE_COMMENT,
  };
}
