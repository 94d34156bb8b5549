/**
 * `restore --dry-run`: what a restore would change, found by reading the backup's entries (no
 * file content is written anywhere) and comparing them with the live tree: files that would be
 * added, replaced (a different type, size, modification time or link target) or removed.
 *
 * @module
 */
import { unpackArchive } from "../archive/unpack.ts";
import type { MasterKey } from "../crypto/key.ts";
import { lstatOrNone } from "../io/tree.ts";
import { PathGuard } from "./extract.ts";
import { Selection } from "./include.ts";

export interface RestoreChanges {
  readonly added: string[];
  readonly replaced: string[];
  /** Only a full restore removes what the backup does not have; `--include` merges. */
  readonly removed: string[];
  unchanged: number;
}

/**
 * Compares backup `stream` with `target`. Paths are relative to the target, directories end
 * with `/`; each list is sorted.
 */
export async function compareWithTarget(options: {
  stream: ReadableStream<Uint8Array>;
  master: MasterKey;
  source: string;
  target: string;
  include: readonly string[];
}): Promise<RestoreChanges> {
  const { target } = options;
  const changes: RestoreChanges = { added: [], replaced: [], removed: [], unchanged: 0 };
  const selection = new Selection(options.include);
  const guard = new PathGuard(options.source);
  // The paths in the backup, to find what a full restore would remove.
  const inBackup = new Set<string>();
  await unpackArchive(options.stream, options.master, options.source, {
    entry(entry) {
      guard.check(entry);
      const rel = entry.path.replace(/^\.\//, "").replace(/\/$/, "");
      const isDir = entry.type === "dir";
      if (rel === "" || !selection.selects(rel, isDir)) return undefined;
      inBackup.add(rel);
      const shown = isDir ? `${rel}/` : rel;
      const path = `${target}/${rel}`;
      const live = lstatOrNone(path);
      if (!live) changes.added.push(shown);
      else if (differs(entry, live, path, target)) {
        changes.replaced.push(shown);
        // A directory the backup has a file in place of goes, contents and all.
        if (live.isDirectory) listRemoved(target, rel, new Set(), changes.removed);
      } else changes.unchanged++;
      return undefined;
    },
  });
  if (!selection.partial) listRemoved(target, "", inBackup, changes.removed);
  for (const list of [changes.added, changes.replaced, changes.removed]) list.sort();
  return changes;
}

function differs(
  entry: { type: string; size: number; mtimeMs: number; linkTarget?: string },
  live: Deno.FileInfo,
  path: string,
  target: string,
): boolean {
  switch (entry.type) {
    case "dir":
      return !live.isDirectory;
    case "symlink":
      return !live.isSymlink || Deno.readLinkSync(path) !== entry.linkTarget;
    case "file":
      return !live.isFile || live.size !== entry.size ||
        Math.floor((live.mtime?.getTime() ?? 0) / 1000) !== Math.floor(entry.mtimeMs / 1000);
    default: {
      // A hard link: unchanged only if it still is the same file as its first name.
      const first = lstatOrNone(`${target}/${(entry.linkTarget ?? "").replace(/^\.\//, "")}`);
      return !live.isFile || !first || first.ino !== live.ino || first.dev !== live.dev;
    }
  }
}

/** What lives in the target below `rel` that the backup does not have (a removed dir once). */
function listRemoved(target: string, rel: string, inBackup: Set<string>, removed: string[]) {
  const dir = rel === "" ? target : `${target}/${rel}`;
  let names: Deno.DirEntry[];
  try {
    names = [...Deno.readDirSync(dir)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return;
    }
    throw error;
  }
  for (const entry of names) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (!inBackup.has(child)) removed.push(entry.isDirectory ? `${child}/` : child);
    else if (entry.isDirectory) listRemoved(target, child, inBackup, removed);
  }
}
