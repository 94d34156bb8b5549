/**
 * Moving, copying and removing whole trees for a restore, without ever crossing into another
 * filesystem when deleting, and without being stopped by read-only directories.
 *
 * Synchronous on purpose, like the backup walk: these run once the archive is fully
 * extracted, touch one entry at a time, and a sync call costs far less than an async one.
 *
 * @module
 */
import fs from "node:fs";

/** The error code of a failed system call (`EXDEV`, `EBUSY`…), if any. */
export function errorCode(error: unknown): string | undefined {
  return (error as { code?: string })?.code;
}

/** `lstat`, or undefined when nothing is there. */
export function lstatOrNone(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    // A file where a parent directory would be: nothing is at the path either.
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}

/** The names in a directory, read up front: callers move entries while going through them. */
export function namesIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

/**
 * `rename`, also for a directory without write permission: moving a directory to another
 * parent rewrites its `..` entry, which needs that permission unless running as root. The
 * mode is lent u+w for the move and put back.
 */
export function rename(from: string, to: string): void {
  try {
    Deno.renameSync(from, to);
  } catch (error) {
    const info = error instanceof Deno.errors.PermissionDenied ? lstatOrNone(from) : undefined;
    const mode = (info?.mode ?? 0) & 0o7777;
    if (!info?.isDirectory || mode & 0o200 || info.uid !== Deno.uid()) throw error;
    Deno.chmodSync(from, mode | 0o200);
    let at = from;
    try {
      Deno.renameSync(from, to);
      at = to;
    } finally {
      Deno.chmodSync(at, mode);
    }
  }
}

/**
 * Copies `from` to `to` with modes, times and (as root) owners. Files that share an inode in
 * the source share one in the copy: `links` maps `dev:ino` of a copied source file to where
 * its copy is, and is filled in as files are copied.
 */
export function copyTree(from: string, to: string, links: Map<string, string>): void {
  const info = Deno.lstatSync(from);
  if (info.isSymlink) {
    Deno.symlinkSync(Deno.readLinkSync(from), to);
    if (Deno.uid() === 0) fs.lchownSync(to, info.uid ?? 0, info.gid ?? 0);
    return;
  }
  if (info.isDirectory) {
    Deno.mkdirSync(to, { mode: 0o700 });
    for (const name of namesIn(from)) copyTree(`${from}/${name}`, `${to}/${name}`, links);
  } else {
    // Looked up even with one link left: the caller may have removed the others, once copied.
    const key = `${info.dev}:${info.ino}`;
    if (linkTo(links.get(key), to)) return;
    Deno.copyFileSync(from, to);
    if ((info.nlink ?? 1) > 1) links.set(key, to);
  }
  copyMetadata(info, to);
}

/** Hard-links `to` to an earlier copy; false when there is none or linking fails. */
function linkTo(earlier: string | undefined, to: string): boolean {
  if (earlier === undefined) return false;
  try {
    Deno.linkSync(earlier, to);
    return true;
  } catch {
    // Another filesystem, or it no longer exists: copy the content instead.
    return false;
  }
}

function copyMetadata(info: Deno.FileInfo, to: string): void {
  if (Deno.uid() === 0) Deno.chownSync(to, info.uid, info.gid);
  // After chown, which clears the set-id bits.
  Deno.chmodSync(to, (info.mode ?? 0o600) & 0o7777);
  if (info.mtime) Deno.utimeSync(to, info.atime ?? info.mtime, info.mtime);
}

/**
 * Removes a file or tree, returning what could not be removed (empty when all went); never
 * throws. Never descends into a mount point (a directory on another device than the root, or
 * one that cannot be renamed because something is mounted on it): a mounted volume's contents
 * are not ours to delete. Directories are made writable first, so read-only ones can be
 * emptied.
 */
export function removeTree(root: string): string[] {
  const problems: string[] = [];
  const info = inspect(root, problems);
  if (info?.isDirectory) removeDir(root, info.dev, problems);
  else if (info) tryRemove(root, problems);
  return problems;
}

function removeDir(dir: string, dev: number, problems: string[]): void {
  const before = problems.length;
  makeWritable(dir);
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (error) {
    problems.push(`cannot read ${dir}: ${(error as Error).message}`);
    return;
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (!entry.isDirectory) {
      tryRemove(path, problems);
      continue;
    }
    const info = inspect(path, problems);
    if (info && (info.dev !== dev || isMountPoint(path))) {
      problems.push(`${path} is a mount point; it and its contents were left alone`);
    } else if (info) removeDir(path, dev, problems);
  }
  // A directory that kept some of its entries cannot go; that is already reported.
  if (problems.length === before) tryRemove(dir, problems);
}

/**
 * Whether something is mounted on `dir`, by renaming it and back: the kernel refuses to
 * rename a mount point (EBUSY). This also catches a bind mount of the same filesystem, which
 * has the same device number. Only for trees about to be deleted.
 */
function isMountPoint(dir: string): boolean {
  const probe = `${dir.slice(0, dir.lastIndexOf("/"))}/.packrat-probe-${probes++}`;
  try {
    Deno.renameSync(dir, probe);
  } catch (error) {
    return errorCode(error) === "EBUSY";
  }
  Deno.renameSync(probe, dir);
  return false;
}

let probes = 0;

/** `lstat`; undefined when gone or unreadable (the latter noted in `problems`). */
function inspect(path: string, problems: string[]): Deno.FileInfo | undefined {
  try {
    return lstatOrNone(path);
  } catch (error) {
    problems.push(`cannot read ${path}: ${(error as Error).message}`);
    return undefined;
  }
}

function tryRemove(path: string, problems: string[]): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      problems.push(`cannot remove ${path}: ${(error as Error).message}`);
    }
  }
}

/** Adds u+rwx to a directory we own that lacks it (root needs no permission). */
function makeWritable(dir: string): void {
  if (Deno.uid() === 0) return;
  try {
    const info = Deno.lstatSync(dir);
    const mode = (info.mode ?? 0) & 0o7777;
    if ((mode & 0o700) !== 0o700 && info.uid === Deno.uid()) Deno.chmodSync(dir, mode | 0o700);
  } catch {
    // Not ours: removing its entries fails and is reported.
  }
}

/**
 * Removes the directories under `root` and `root` itself as long as they are empty: what a
 * rollback leaves of the directories it moved entries into. Files are never removed.
 */
export function removeEmptyDirs(root: string): boolean {
  const info = lstatOrNone(root);
  if (!info) return true;
  if (!info.isDirectory) return false;
  let empty = true;
  for (const name of namesIn(root)) empty = removeEmptyDirs(`${root}/${name}`) && empty;
  if (!empty) return false;
  try {
    Deno.removeSync(root);
    return true;
  } catch {
    return false;
  }
}
