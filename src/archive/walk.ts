/**
 * Walks a service's directory tree depth-first in name order, skipping excluded paths without
 * descending into excluded directories. Excludes are matched on the directory listing, before
 * a name is looked at, so that excluding a name is always enough to get past it.
 *
 * Synchronous on purpose: an async fs call costs ~20× a sync one here, and per-file overhead
 * dominates real trees. Entries that vanish mid-walk, and directories replaced before they are
 * listed, become warnings; anything else that cannot be read is an error.
 *
 * @module
 */
import { PackratError } from "../errors.ts";
import type { GlobMatcher } from "./glob.ts";

export interface WalkEntry {
  /** Relative archive path: `./` for the root, `dir/` for directories, `dir/file` otherwise. */
  readonly path: string;
  readonly absolute: string;
  readonly info: Deno.FileInfo;
}

/** Directories a restore works in, inside the service path; never part of a backup. */
const RESTORE_LEFTOVER = /^\.packrat-(restore|old|tmp|probe)-[0-9a-f]+/;

/** Raised for a file or directory that exists but cannot be read. */
export class UnreadableError extends PackratError {}

/**
 * @param skip absolute paths never archived, e.g. the staging directory or a local
 *   destination that lies inside the service path (archives would nest in later archives)
 */
export function* walkTree(
  root: string,
  isExcluded: GlobMatcher,
  warn: (message: string) => void,
  skip: ReadonlySet<string> = new Set(),
): Generator<WalkEntry> {
  let rootInfo: Deno.FileInfo;
  try {
    rootInfo = Deno.statSync(root);
  } catch (error) {
    throw new PackratError(`cannot read ${root}: ${describe(error)}`);
  }
  if (!rootInfo.isDirectory) throw new PackratError(`${root} is not a directory`);
  yield { path: "./", absolute: root, info: rootInfo };

  // Each stack frame is a directory's remaining children, in reverse name order.
  const stack: ({ dir: string; rel: string } & Listing)[] = [];
  const listed = listDir(root, "", warn);
  if (listed) stack.push({ dir: root, rel: "", ...listed });
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const name = top.names.pop();
    if (name === undefined) {
      stack.pop();
      continue;
    }
    const listedAsDir = top.dirs.has(name);
    const absolute = `${top.dir}/${name}`;
    const rel = top.rel + name;
    if (top.rel === "" && RESTORE_LEFTOVER.test(name)) {
      warn(`${absolute} is left over from an interrupted restore; not backed up (remove it)`);
      continue;
    }
    // Before lstat: an excluded name must never be looked at (it may not even be openable), and
    // the directory listing already says whether it is a directory.
    if (skip.has(absolute) || isExcluded(rel, listedAsDir)) continue;
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(absolute);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && name.includes("\uFFFD")) {
        // Deno decodes names lossily: the replacement character means the real name is not
        // UTF-8, and the file cannot be opened by the decoded name. Failing beats skipping it.
        throw new UnreadableError(
          `cannot back up ${absolute}: its name is not valid UTF-8; rename it or exclude it`,
        );
      }
      if (error instanceof Deno.errors.NotFound) {
        warn(`${absolute} vanished during the backup; skipped`);
        continue;
      }
      throw new UnreadableError(`cannot read ${absolute}: ${describe(error)}`);
    }
    // Replaced by a directory since it was listed: directory-only patterns now apply.
    if (info.isDirectory && !listedAsDir && isExcluded(rel, true)) continue;
    if (info.isDirectory) {
      yield { path: `${rel}/`, absolute, info };
      const children = listDir(absolute, rel, warn);
      if (children) stack.push({ dir: absolute, rel: `${rel}/`, ...children });
    } else {
      yield { path: rel, absolute, info };
    }
  }
}

/** A directory's names in reverse order (the walk pops them from the end). */
interface Listing {
  names: string[];
  /** The names the listing says are directories (not links to them). */
  dirs: Set<string>;
}

function listDir(dir: string, rel: string, warn: (message: string) => void): Listing | undefined {
  const names: string[] = [];
  const dirs = new Set<string>();
  try {
    for (const entry of Deno.readDirSync(dir)) {
      names.push(entry.name);
      if (entry.isDirectory) dirs.add(entry.name);
    }
  } catch (error) {
    // Gone or replaced since it was looked at: like a file that vanished, not a failed backup.
    if (error instanceof Deno.errors.NotFound) {
      warn(`${dir} vanished during the backup; skipped`);
      return undefined;
    }
    if (error instanceof Deno.errors.NotADirectory) {
      warn(
        `${dir} is no longer a directory (replaced during the backup); its contents were skipped`,
      );
      return undefined;
    }
    throw new UnreadableError(`cannot read directory ${rel || dir}: ${describe(error)}`);
  }
  return { names: names.sort().reverse(), dirs };
}

export function describe(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
