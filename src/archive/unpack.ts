/**
 * Reads an archive: source → STREAM decryption → zstd frames (parallel Workers) → tar entries
 * handed to a sink. Nothing here touches the filesystem; restore and verify supply the sink.
 *
 * @module
 */
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
  type TarEntry,
  TarFormatError,
} from "./tar.ts";
import { ZstdFormatError, zstdFrames } from "./zstd_frames.ts";
import { ZstdPool } from "./zstd_pool.ts";

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
): Promise<UnpackResult> {
  let header: ArchiveHeader | undefined;
  const pool = new ZstdPool();
  try {
    const plain = input
      .pipeThrough(decryptStream(master, source, (h) => header = h))
      .pipeThrough(zstdFrames())
      .pipeThrough(decompressInOrder(pool));
    const { entries, bytes } = await readTar(plain, sink, source);
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

function decompressInOrder(pool: ZstdPool): TransformStream<Uint8Array, Uint8Array> {
  const inFlight: Promise<Uint8Array>[] = [];
  const limit = pool.size * 2;
  return new TransformStream({
    async transform(frame, out) {
      inFlight.push(settleLater(pool.decompress(frame)));
      if (inFlight.length >= limit) out.enqueue(await inFlight.shift()!);
    },
    async flush(out) {
      while (inFlight.length > 0) out.enqueue(await inFlight.shift()!);
    },
  });
}

const TYPES: Record<string, EntryType> = {
  "0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "5": "dir",
};

async function readTar(
  input: ReadableStream<Uint8Array>,
  sink: ArchiveSink,
  source: string,
): Promise<{ entries: number; bytes: number }> {
  const queue = new ByteQueue();
  const reader = input.getReader();
  const pull = async () => {
    const { value, done } = await reader.read();
    if (!done) queue.push(value);
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
  };
}
