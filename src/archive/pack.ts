/**
 * Creates an archive: walk → PAX tar → zstd (parallel Workers) → STREAM encryption → sink.
 *
 * File contents are read with sync calls straight into the compression segments: no buffer per
 * file, so memory stays bounded by the segment pool whatever the tree's size.
 *
 * @module
 */
import { ChunkEncryptor } from "../crypto/stream.ts";
import { encodeHeader, newHeader } from "../crypto/header.ts";
import type { MasterKey } from "../crypto/key.ts";
import { compileGlobs } from "./glob.ts";
import { CompressingWriter } from "./segments.ts";
import { BLOCK, encodeEntryHeader, END_OF_ARCHIVE, padded, type TarEntry } from "./tar.ts";
import { describe, UnreadableError, type WalkEntry, walkTree } from "./walk.ts";
import { ZstdPool } from "./zstd_pool.ts";

const ZERO_BLOCK = new Uint8Array(BLOCK);

export interface PackOptions {
  readonly root: string;
  readonly exclude: readonly string[];
  readonly master: MasterKey;
  /** Informational header fields (service, host, id, created). */
  readonly meta: Record<string, string>;
  /** Receives the archive's bytes in order. */
  readonly sink: (bytes: Uint8Array) => Promise<void>;
  readonly warn: (message: string) => void;
  readonly onProgress?: (progress: PackProgress) => void;
  /** Stops the walk between files; the caller removes the partial output. */
  readonly signal?: AbortSignal;
  /** Absolute paths under `root` that are never archived (staging dir, local destination). */
  readonly skip?: ReadonlySet<string>;
  readonly compressionLevel?: number;
}

export interface PackProgress {
  entries: number;
  bytesIn: number;
  bytesOut: number;
  /** The entry being archived (progress reports only). */
  path?: string;
}

/** How often progress is reported at most: often enough to look alive, rare enough to cost nothing. */
const PROGRESS_MS = 200;

export interface PackResult extends PackProgress {
  warnings: number;
}

export async function packArchive(options: PackOptions): Promise<PackResult> {
  const header = newHeader(options.master, options.meta);
  const encryptor = await ChunkEncryptor.start(
    options.master,
    header,
    await encodeHeader(header),
    options.sink,
  );
  const pool = new ZstdPool();
  let warnings = 0;
  const warn = (message: string) => {
    warnings++;
    options.warn(message);
  };
  try {
    const tar = new CompressingWriter(
      pool,
      options.compressionLevel ?? 3,
      (frame) => encryptor.write(frame),
    );
    const progress: PackProgress = { entries: 0, bytesIn: 0, bytesOut: 0 };
    const onProgress = options.onProgress;
    let reported = 0;
    const report = onProgress && ((path: string, bytesIn: number) => {
      const now = performance.now();
      if (now - reported < PROGRESS_MS) return;
      reported = now;
      progress.path = path;
      progress.bytesIn = bytesIn;
      progress.bytesOut = encryptor.bytesWritten;
      onProgress(progress);
    });
    const hardLinks = new Map<string, string>();
    const isExcluded = compileGlobs(options.exclude);
    for (const entry of walkTree(options.root, isExcluded, warn, options.skip)) {
      options.signal?.throwIfAborted();
      // A big file reports as its segments go by; small ones every 64 files at most.
      const onSegment = report && ((bytesIn: number) => report(entry.path, bytesIn));
      if (await writeEntry(tar, entry, hardLinks, warn, options.signal, onSegment)) {
        progress.entries++;
      }
      if (report && (progress.entries & 63) === 0) report(entry.path, tar.bytesIn);
    }
    await tar.write(END_OF_ARCHIVE);
    await tar.close();
    await encryptor.close();
    return {
      entries: progress.entries,
      bytesIn: tar.bytesIn,
      bytesOut: encryptor.bytesWritten,
      warnings,
    };
  } finally {
    pool.close();
  }
}

async function writeEntry(
  tar: CompressingWriter,
  { path, absolute, info }: WalkEntry,
  hardLinks: Map<string, string>,
  warn: (message: string) => void,
  signal?: AbortSignal,
  onSegment?: (bytesIn: number) => void,
): Promise<boolean> {
  const base = {
    path,
    mode: info.mode ?? 0o644,
    uid: info.uid ?? 0,
    gid: info.gid ?? 0,
    mtimeMs: info.mtime?.getTime() ?? 0,
  };
  if (info.isDirectory) {
    return written(tar.write(encodeEntryHeader({ ...base, type: "dir", size: 0 })));
  }
  if (info.isSymlink) {
    let target: string;
    try {
      target = Deno.readLinkSync(absolute);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return skipped(warn, `${absolute} vanished; skipped`);
      }
      throw new UnreadableError(`cannot read link ${absolute}: ${describe(error)}`);
    }
    return written(
      tar.write(encodeEntryHeader({ ...base, type: "symlink", size: 0, linkTarget: target })),
    );
  }
  if (!info.isFile) {
    return skipped(warn, `${absolute} is not a regular file, directory or link; skipped`);
  }

  if ((info.nlink ?? 1) > 1) {
    const inode = `${info.dev}:${info.ino}`;
    const first = hardLinks.get(inode);
    if (first !== undefined) {
      return written(tar.write(
        encodeEntryHeader({ ...base, type: "hardlink", size: 0, linkTarget: first }),
      ));
    }
    hardLinks.set(inode, path);
  }
  // Less allocated than its size: it has holes, which the restore can recreate.
  const sparse = info.blocks !== null && info.blocks * 512 < info.size;
  const entry: TarEntry = { ...base, type: "file", size: info.size, sparse };
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(absolute);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return skipped(warn, `${absolute} vanished; skipped`);
    }
    throw new UnreadableError(`cannot read ${absolute}: ${describe(error)}`);
  }
  try {
    await tar.write(encodeEntryHeader(entry));
    let done = await tar.readFrom(file, info.size, signal, onSegment);
    if (done < info.size) {
      // The header already promised `size` bytes: keep the archive well-formed.
      warn(`${absolute} shrank while it was read; the missing end is stored as zeros`);
      while (done < info.size) {
        const n = Math.min(BLOCK, info.size - done);
        await tar.write(ZERO_BLOCK.subarray(0, n));
        done += n;
      }
    }
    await tar.write(ZERO_BLOCK.subarray(0, padded(info.size) - info.size));
  } finally {
    file.close();
  }
  return true;
}

/** Entries handed to the tar stream count; skipped ones only warn. */
async function written(write: Promise<void>): Promise<boolean> {
  await write;
  return true;
}

function skipped(warn: (message: string) => void, message: string): boolean {
  warn(message);
  return false;
}
