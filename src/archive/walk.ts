/**
 * Walks a service's directory tree depth-first in name order, skipping excluded paths without
 * descending into excluded directories.
 *
 * Synchronous on purpose: an async fs call costs ~20× a sync one here, and per-file overhead
 * dominates real trees. Entries that vanish mid-walk become warnings; anything else that cannot
 * be read is an error.
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
  const stack: { dir: string; rel: string; names: string[] }[] = [];
  const listed = listDir(root, "", warn);
  if (listed) stack.push({ dir: root, rel: "", names: listed });
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const name = top.names.pop();
    if (name === undefined) {
      stack.pop();
      continue;
    }
    const absolute = `${top.dir}/${name}`;
    const rel = top.rel + name;
    if (top.rel === "" && RESTORE_LEFTOVER.test(name)) {
      warn(`${absolute} is left over from an interrupted restore; not backed up (remove it)`);
      continue;
    }
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
    if (skip.has(absolute)) continue;
    if (isExcluded(rel, info.isDirectory)) continue;
    if (info.isDirectory) {
      yield { path: `${rel}/`, absolute, info };
      const names = listDir(absolute, rel, warn);
      if (names) stack.push({ dir: absolute, rel: `${rel}/`, names });
    } else {
      yield { path: rel, absolute, info };
    }
  }
}

function listDir(dir: string, rel: string, warn: (message: string) => void): string[] | undefined {
  const names: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) names.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      warn(`${dir} vanished during the backup; skipped`);
      return undefined;
    }
    throw new UnreadableError(`cannot read directory ${rel || dir}: ${describe(error)}`);
  }
  return names.sort().reverse();
}

export function describe(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
