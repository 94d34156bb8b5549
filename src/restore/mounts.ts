/**
 * Mount points at or below a directory. A restore must never move a mounted volume away (the
 * volume would end up under the old tree and its mount point an empty directory) nor delete a
 * volume's contents while removing the old tree.
 *
 * Found by device number: a directory on another device than its parent is a mount point.
 * (Deno refuses to read /proc/self/mountinfo without --allow-all.) A bind mount of the same
 * filesystem has the same device and is not seen here: moving it fails with EBUSY, which the
 * callers handle, but a directory holding one deeper down moves whole, the mount with it;
 * removeTree then finds it and leaves it alone.
 *
 * @module
 */
import { lstatOrNone } from "../io/tree.ts";

/** The mount points at or below `dir` (including `dir` when it is one). */
export function findMountPoints(dir: string): Set<string> {
  const found = new Set<string>();
  const info = lstatOrNone(dir);
  if (!info?.isDirectory) return found;
  if (info.dev !== lstatOrNone(parentOf(dir))?.dev) found.add(dir);
  visit(dir, info.dev, found);
  return found;
}

function visit(dir: string, dev: number, found: Set<string>): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    // Unreadable: nothing to move or delete in there either.
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    const path = `${dir}/${entry.name}`;
    const info = lstatOrNone(path);
    if (!info?.isDirectory) continue;
    if (info.dev !== dev) found.add(path);
    visit(path, info.dev, found);
  }
}

export function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
