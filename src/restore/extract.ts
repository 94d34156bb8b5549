/**
 * Writes archive entries under a fresh staging directory, refusing any entry that could land
 * outside it: absolute paths, `..`, and paths through a symlink the archive itself created.
 *
 * Directory modes and times are applied last, deepest first, so read-only directories do not
 * block their own contents. Ownership is restored only when running as root.
 *
 * @module
 */
import fs from "node:fs";
import type { ArchiveSink, ContentSink } from "../archive/unpack.ts";
import type { TarEntry } from "../archive/tar.ts";
import { ArchiveDamagedError, PackratError } from "../errors.ts";
import { Selection } from "./include.ts";

/** Normalises an archive path to `a/b` (root: ""), or throws for an unsafe one. */
export function safeRelativePath(path: string, source: string): string {
  const unsafe = () =>
    new ArchiveDamagedError(`${source}: refusing unsafe entry "${path}" (outside the target)`);
  if (path.startsWith("/") || path.includes("\0")) throw unsafe();
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw unsafe();
  return parts.join("/");
}

/** What the guard knows about a path: `parent` is a directory implied by a deeper entry. */
type Seen = "dir" | "parent" | "file" | "symlink";

/**
 * Checks each entry's path before anything is written, so that restore and verify refuse the
 * same archives: no absolute paths or `..`, nothing at or below a symlink an earlier entry
 * created, no path twice, no path used both as a file and as a directory, and hard links only
 * to a file that comes earlier in the archive.
 *
 * It remembers every path of the archive (about 110 bytes each): duplicates and hard link
 * targets cannot be checked with less.
 */
export class PathGuard {
  readonly #source: string;
  readonly #seen = new Map<string, Seen>();

  constructor(source: string) {
    this.#source = source;
  }

  /** Returns the entry's normalised relative path (`""` for the root), or throws. */
  check(entry: TarEntry): string {
    const rel = safeRelativePath(entry.path, this.#source);
    this.#checkParents(rel, entry.path);
    if (entry.type === "hardlink") this.#checkLinkTarget(entry);
    this.#claim(rel, entry);
    return rel;
  }

  /**
   * Every parent must be a directory (or not seen yet: it then becomes one). Walks up only to
   * the first known directory: its own parents were checked when it was recorded.
   */
  #checkParents(rel: string, original: string): void {
    for (let end = rel.lastIndexOf("/"); end > 0; end = rel.lastIndexOf("/", end - 1)) {
      const parent = rel.slice(0, end);
      const seen = this.#seen.get(parent);
      if (seen === "dir" || seen === "parent") return;
      if (seen === "symlink") throw this.#refuse(original, THROUGH_SYMLINK);
      if (seen === "file") {
        throw this.#refuse(original, `"${parent}" is a file earlier in the archive`);
      }
      this.#seen.set(parent, "parent");
    }
  }

  #checkLinkTarget(entry: TarEntry): void {
    const linked = safeRelativePath(entry.linkTarget ?? "", this.#source);
    this.#checkParents(linked, entry.path);
    const seen = this.#seen.get(linked);
    if (seen === "symlink") throw this.#refuse(entry.path, THROUGH_SYMLINK);
    if (seen !== "file") {
      throw this.#refuse(
        entry.path,
        `it is a hard link to "${linked}", which is not a file earlier in the archive`,
      );
    }
  }

  /** Records the entry's own path, which must be new (or a directory implied so far). */
  #claim(rel: string, entry: TarEntry): void {
    const isDir = entry.type === "dir";
    if (rel === "" && !isDir) {
      throw this.#refuse(entry.path, "the root of the archive must be a directory");
    }
    const seen = this.#seen.get(rel);
    if (seen === undefined || (isDir && seen === "parent")) {
      this.#seen.set(rel, isDir ? "dir" : entry.type === "symlink" ? "symlink" : "file");
      return;
    }
    if (seen === "symlink") throw this.#refuse(entry.path, THROUGH_SYMLINK);
    const clash = seen === "parent" || (seen === "dir") !== isDir;
    throw this.#refuse(
      entry.path,
      clash
        ? "the path is used both as a file and as a directory"
        : "the path occurs twice in the archive",
    );
  }

  #refuse(original: string, reason: string): ArchiveDamagedError {
    return new ArchiveDamagedError(`${this.#source}: refusing entry "${original}": ${reason}`);
  }
}

const THROUGH_SYMLINK = "it would write through a symbolic link";

export interface ExtractStats {
  files: number;
  dirs: number;
  links: number;
  bytes: number;
}

export interface ExtractorOptions {
  /** An existing, empty staging directory. */
  readonly root: string;
  /** Names the archive in messages, e.g. `local:20260101T000000.000Z`. */
  readonly source: string;
  /** `--include` patterns; none restores everything. */
  readonly include?: readonly string[];
  readonly warn: (message: string) => void;
  /** Checked before each entry and each piece of content. */
  readonly signal?: AbortSignal;
}

export class Extractor implements ArchiveSink {
  readonly stats: ExtractStats = { files: 0, dirs: 0, links: 0, bytes: 0 };
  readonly selection: Selection;
  /** Every directory entry of the archive, selected or not: see `finish`. */
  readonly directories = new Map<string, TarEntry>();
  readonly #root: string;
  readonly #guard: PathGuard;
  readonly #warn: (message: string) => void;
  readonly #signal?: AbortSignal;
  readonly #chown: boolean;
  readonly #created = new Set<string>([""]);

  constructor(options: ExtractorOptions) {
    this.#root = options.root;
    this.#guard = new PathGuard(options.source);
    this.selection = new Selection(options.include ?? []);
    this.#warn = options.warn;
    this.#signal = options.signal;
    this.#chown = Deno.uid() === 0;
  }

  entry(entry: TarEntry): ContentSink | undefined {
    this.#signal?.throwIfAborted();
    const rel = this.#guard.check(entry);
    if (entry.type === "dir") this.directories.set(rel, entry);
    if (!this.selection.selects(rel, entry.type === "dir")) return undefined;
    const target = rel === "" ? this.#root : `${this.#root}/${rel}`;
    try {
      return this.#write(rel, target, entry);
    } catch (error) {
      throw cannotWrite(target, error);
    }
  }

  /**
   * Gives every staged directory the mode, owner and time its archive entry records, deepest
   * first — also the parents an `--include` restore created without selecting them. The root
   * is left to the caller: the staging directory is not where the root's metadata ends up.
   */
  finish(): void {
    const staged = [...this.directories.keys()].filter((r) => r !== "" && this.#created.has(r));
    for (const rel of deepestFirst(staged)) {
      const path = `${this.#root}/${rel}`;
      try {
        applyDirMetadata(path, this.directories.get(rel)!);
      } catch (error) {
        throw cannotWrite(path, error);
      }
    }
  }

  #write(rel: string, target: string, entry: TarEntry): ContentSink | undefined {
    this.#ensureParents(rel);
    switch (entry.type) {
      case "dir":
        if (!this.#created.has(rel)) {
          Deno.mkdirSync(target, { mode: 0o700 });
          this.#created.add(rel);
        }
        this.stats.dirs++;
        return undefined;
      case "symlink":
        Deno.symlinkSync(entry.linkTarget ?? "", target);
        if (this.#chown) lchown(target, entry.uid, entry.gid);
        this.stats.links++;
        return undefined;
      case "hardlink":
        this.#hardlink(rel, target, entry);
        return undefined;
      case "file":
        return this.#file(target, entry);
    }
  }

  /**
   * The guard made sure the linked file came earlier. It is missing only when `--include` did
   * not select it; its content went by unsaved, so the link is skipped, as GNU tar does.
   */
  #hardlink(rel: string, target: string, entry: TarEntry): void {
    const linked = safeRelativePath(entry.linkTarget ?? "", "");
    try {
      Deno.linkSync(`${this.#root}/${linked}`, target);
      this.stats.links++;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) || !this.selection.partial) throw error;
      this.#warn(
        `skipped ${rel}: it is a hard link to ${linked}, which --include did not select (add --include '${linked}' to restore both)`,
      );
    }
  }

  /**
   * Ownership and mode are set through the descriptor (node:fs has fchown and fchmod): each
   * path-based Deno call resolves every path component again, which showed up as ~15 readlink
   * calls per restored file.
   */
  #file(target: string, entry: TarEntry): ContentSink {
    const fd = fs.openSync(target, "wx", 0o600);
    this.stats.files++;
    // Only files marked sparse get holes: a database's preallocated zero-filled files must
    // stay allocated, or a full disk would surprise it later.
    const writeContent = entry.sparse ? holeSkippingWriter(fd) : (bytes: Uint8Array) => {
      let offset = 0;
      while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset);
    };
    return {
      write: (bytes) => {
        // A large file can take a while: an interrupt need not wait for its end.
        this.#signal?.throwIfAborted();
        try {
          writeContent(bytes);
        } catch (error) {
          throw cannotWrite(target, error);
        }
        this.stats.bytes += bytes.length;
      },
      close: () => {
        try {
          try {
            // Holes at the end were never written: only the length makes them part of the file.
            if (entry.sparse) fs.ftruncateSync(fd, entry.size);
            if (this.#chown) fs.fchownSync(fd, entry.uid, entry.gid);
            fs.fchmodSync(fd, entry.mode & 0o7777);
          } finally {
            fs.closeSync(fd);
          }
          // By path with a Date: node's futimes goes through float seconds and loses a
          // millisecond now and then.
          const mtime = new Date(entry.mtimeMs);
          Deno.utimeSync(target, mtime, mtime);
        } catch (error) {
          throw cannotWrite(target, error);
        }
      },
    };
  }

  /** Creates missing parent directories (an --include restore skips their entries). */
  #ensureParents(rel: string): void {
    const slash = rel.lastIndexOf("/");
    if (slash < 0) return;
    const parent = rel.slice(0, slash);
    if (this.#created.has(parent)) return;
    Deno.mkdirSync(`${this.#root}/${parent}`, { recursive: true, mode: 0o700 });
    const parts = parent.split("/");
    for (let i = 1; i <= parts.length; i++) this.#created.add(parts.slice(0, i).join("/"));
  }
}

/** Holes are made of whole filesystem blocks; 4 KiB is the usual block size. */
const HOLE_BLOCK = 4096;

/**
 * Writes a new file's content in order, leaving out every all-zero block (aligned to file
 * offsets) with positional writes: what is never written reads back as zeros, and the
 * filesystem allocates nothing for it. The caller sets the final length.
 */
function holeSkippingWriter(fd: number): (bytes: Uint8Array) => void {
  let position = 0;
  const writeAt = (bytes: Uint8Array, from: number, to: number) => {
    while (from < to) from += fs.writeSync(fd, bytes, from, to - from, position + from);
  };
  return (bytes) => {
    // [pending, blockStart) is data not written yet.
    let pending = 0;
    for (let blockStart = 0; blockStart < bytes.length;) {
      const blockEnd = Math.min(
        bytes.length,
        blockStart + HOLE_BLOCK - (position + blockStart) % HOLE_BLOCK,
      );
      if (allZero(bytes, blockStart, blockEnd)) {
        writeAt(bytes, pending, blockStart);
        pending = blockEnd;
      }
      blockStart = blockEnd;
    }
    writeAt(bytes, pending, bytes.length);
    position += bytes.length;
  };
}

/** Whether bytes[from, to) are all zero; reads whole 32-bit words where the buffer allows. */
function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  let i = from;
  while (i < to && (bytes.byteOffset + i) % 4 !== 0) if (bytes[i++] !== 0) return false;
  const words = (to - i) >>> 2;
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let w = 0; w < words; w++) if (view[w] !== 0) return false;
    i += words * 4;
  }
  while (i < to) if (bytes[i++] !== 0) return false;
  return true;
}

/** Sets a directory's owner (as root), mode and modification time from its archive entry. */
export function applyDirMetadata(path: string, entry: TarEntry): void {
  if (Deno.uid() === 0) Deno.chownSync(path, entry.uid, entry.gid);
  // After chown, which clears the set-id bits.
  Deno.chmodSync(path, entry.mode & 0o7777);
  const mtime = new Date(entry.mtimeMs);
  Deno.utimeSync(path, mtime, mtime);
}

function lchown(path: string, uid: number, gid: number): void {
  try {
    // Deno.chown follows links; node:fs has lchown.
    fs.lchownSync(path, uid, gid);
  } catch {
    // Ownership of a link itself is cosmetic.
  }
}

/** Relative paths ordered so that every directory comes before its parent. */
export function deepestFirst(rels: readonly string[]): string[] {
  const depth = (rel: string) => rel === "" ? 0 : rel.split("/").length;
  return rels.map((rel) => ({ rel, depth: depth(rel) }))
    .sort((a, b) => b.depth - a.depth)
    .map(({ rel }) => rel);
}

/** Disk full, permission denied…: a plain error naming the path, not a stack trace. */
function cannotWrite(path: string, error: unknown): unknown {
  if (error instanceof PackratError || error instanceof DOMException) return error;
  return new PackratError(`cannot write ${path}: ${(error as Error).message}`, { cause: error });
}
