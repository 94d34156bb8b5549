/**
 * Puts an extracted tree in place in an existing target directory, staged inside it (so on
 * its filesystem) at `<target>/.packrat-restore-<tag>`.
 *
 * - A full restore swaps the target's *contents*: every entry is moved into
 *   `.packrat-old-<tag>`, then the staged entries are moved up. The target directory itself
 *   stays, so it may be a mount point, the working directory, or the target of a symlink.
 * - An `--include` restore merges: a staged entry replaces the one at its path by a rename
 *   (atomic for files); an entry of another type is first moved into `.packrat-old-<tag>`.
 *
 * Nothing is deleted here: replaced entries go to an old directory (one per filesystem, at
 * the target or at the mount point the entry is on), removed by the caller once all is in
 * place. Every step is journaled, so a failure midway puts the previous contents back.
 *
 * Mount points below the target are never moved (the volume would end up in the old tree):
 * a mount point, or a directory with one below it, gets the same contents swap inside it
 * (except same-filesystem bind mounts, which device numbers cannot show: see mounts.ts).
 * Moves across filesystems (into a mounted volume) copy into a temporary name beside the
 * destination and rename that into place.
 *
 * @module
 */
import { PackratError } from "../errors.ts";
import type { Logger } from "../ui/log.ts";
import { findMountPoints, parentOf } from "./mounts.ts";
import {
  copyTree,
  errorCode,
  lstatOrNone,
  namesIn,
  removeEmptyDirs,
  removeTree,
  rename,
} from "../io/tree.ts";

/** The result of a placement, for the caller to finish with. */
export interface Placed {
  /** Old directories holding the previous contents, to remove now that all is in place. */
  readonly oldDirs: string[];
  /** Existing directories (relative, `""` = the target) that received restored contents. */
  readonly kept: string[];
}

/** Names a restore uses inside the target, with a random tag so runs never collide. */
export function stagingName(tag: string): string {
  return `.packrat-restore-${tag}`;
}

/** Swaps the target's contents for the staged tree's (a full restore). */
export function swapContents(
  staging: string,
  target: string,
  tag: string,
  log: Logger,
): Placed {
  // All of them, up front: a directory is moved whole only if no volume is mounted below it.
  const placement = new Placement(target, tag, log, findMountPoints(target));
  return placement.run(() => {
    placement.swap(staging, target, "");
    placement.kept.push("");
  });
}

/** Merges the staged tree into the target (an `--include` restore). */
export function mergeContents(
  staging: string,
  target: string,
  tag: string,
  log: Logger,
): Placed {
  // A merge moves few existing entries: it looks for mount points only below those.
  const placement = new Placement(target, tag, log);
  return placement.run(() => placement.merge(staging, target, ""));
}

class Placement {
  readonly kept: string[] = [];
  readonly #target: string;
  readonly #tag: string;
  readonly #log: Logger;
  /** Mount points known so far; all of them below the target when `#scanned`. */
  readonly #mounts: Set<string>;
  readonly #scanned: boolean;
  readonly #oldDirs = new Set<string>();
  /** How to take back each step done so far, in order. */
  readonly #undo: (() => void)[] = [];
  /** Hard links across copied trees (see copyTree). */
  readonly #links = new Map<string, string>();
  #temps = 0;

  constructor(target: string, tag: string, log: Logger, mounts?: Set<string>) {
    this.#target = target;
    this.#tag = tag;
    this.#log = log;
    this.#mounts = mounts ?? new Set();
    this.#scanned = mounts !== undefined;
  }

  /** Runs the steps; on failure takes them all back and throws a clear error. */
  run(steps: () => void): Placed {
    try {
      steps();
    } catch (error) {
      throw this.#rollback(error);
    }
    return { oldDirs: [...this.#oldDirs], kept: this.kept };
  }

  /** Makes `live` hold exactly what `staged` holds (see the module doc). */
  swap(staged: string, live: string, rel: string): void {
    const pinned = new Set<string>();
    for (const name of namesIn(live)) {
      if (this.#isOurs(name)) continue;
      const path = `${live}/${name}`;
      if (this.#holdsMount(path) || !this.#moveAside(path)) pinned.add(name);
    }
    for (const name of namesIn(staged)) {
      const from = `${staged}/${name}`;
      const to = `${live}/${name}`;
      if (!pinned.delete(name)) {
        this.#moveIn(from, to, true);
        continue;
      }
      const childRel = join(rel, name);
      if (!Deno.lstatSync(from).isDirectory) {
        throw new PackratError(
          `cannot restore ${childRel}: ${to} is or holds a mount point, and the backup has a file there`,
        );
      }
      this.swap(from, to, childRel);
      this.kept.push(childRel);
    }
    for (const name of pinned) {
      this.#log.warn(
        `${live}/${name} is or holds a mount point and is not in the backup; left as it was`,
      );
    }
  }

  /** Moves each staged entry over the live one, recursing where both are directories. */
  merge(staged: string, live: string, rel: string): void {
    for (const name of namesIn(staged)) {
      const from = `${staged}/${name}`;
      const to = `${live}/${name}`;
      const childRel = join(rel, name);
      const isDir = Deno.lstatSync(from).isDirectory;
      const existing = lstatOrNone(to);
      if (isDir && existing?.isDirectory) {
        this.merge(from, to, childRel);
        this.kept.push(childRel);
      } else if (existing && (isDir || existing.isDirectory)) {
        if (this.#holdsMount(to) || !this.#moveAside(to)) {
          throw new PackratError(
            `cannot restore ${childRel}: ${to} is or holds a mount point, and the backup has a file there`,
          );
        }
        this.#moveIn(from, to, true);
      } else {
        // A rename over a file replaces it atomically; a hard link keeps the old one for a
        // rollback. Without that link the new file has to stay, even on rollback.
        this.#moveIn(from, to, !existing || this.#keepLink(to));
      }
    }
  }

  /** Moves a live entry into the old directory of its filesystem; false if it is a mount point. */
  #moveAside(path: string): boolean {
    const old = this.#oldPathFor(path);
    try {
      rename(path, old);
    } catch (error) {
      const code = errorCode(error);
      if (code !== "EBUSY" && code !== "EXDEV") throw error;
      // A mount point the mount table did not show (no /proc): its contents are on its own
      // filesystem, so later moves of them use an old directory there.
      this.#mounts.add(path);
      return false;
    }
    this.#undo.push(() => rename(old, path));
    return true;
  }

  /** Hard-links a file about to be replaced into the old directory; false if that fails. */
  #keepLink(path: string): boolean {
    const old = this.#oldPathFor(path);
    try {
      Deno.linkSync(path, old);
    } catch {
      return false;
    }
    this.#undo.push(() => rename(old, path));
    return true;
  }

  /** Moves a staged entry to `to`; across filesystems by copying. */
  #moveIn(from: string, to: string, undoable: boolean): void {
    try {
      rename(from, to);
      if (undoable) this.#undo.push(() => rename(to, from));
    } catch (error) {
      if (errorCode(error) !== "EXDEV") throw error;
      this.#copyIn(from, to);
      if (undoable) this.#undo.push(() => removeOrThrow(to));
    }
  }

  /**
   * Copies into a temporary name beside `to`, so that a half-done copy never shows under the
   * real name, then renames it into place and removes the staged source.
   */
  #copyIn(from: string, to: string): void {
    const temp = `${parentOf(to)}/.packrat-tmp-${this.#tag}-${++this.#temps}`;
    const links = new Map(this.#links);
    try {
      copyTree(from, temp, links);
      rename(temp, to);
    } catch (error) {
      removeTree(temp);
      throw error;
    }
    for (const [key, path] of links) {
      this.#links.set(key, path.startsWith(`${temp}/`) ? to + path.slice(temp.length) : path);
    }
    removeTree(from);
  }

  /** `<fs root>/.packrat-old-<tag>/<path below the fs root>`, with its parents created. */
  #oldPathFor(path: string): string {
    const root = this.#filesystemRootOf(path);
    const oldDir = `${root}/.packrat-old-${this.#tag}`;
    const old = oldDir + path.slice(root.length);
    Deno.mkdirSync(parentOf(old), { recursive: true, mode: 0o700 });
    this.#oldDirs.add(oldDir);
    return old;
  }

  /**
   * The topmost directory, up to the target, on the filesystem that holds `path` (not itself
   * a mount point): by device number, or a mount point found by a failed move.
   */
  #filesystemRootOf(path: string): string {
    let root = parentOf(path);
    const dev = Deno.lstatSync(root).dev;
    while (root !== this.#target && Deno.lstatSync(parentOf(root)).dev === dev) {
      root = parentOf(root);
    }
    for (const mount of this.#mounts) {
      if (path.startsWith(`${mount}/`) && mount.length > root.length) root = mount;
    }
    return root;
  }

  /** Whether `path` is a mount point or has one somewhere below it. */
  #holdsMount(path: string): boolean {
    if (!this.#scanned) { for (const mount of findMountPoints(path)) this.#mounts.add(mount); }
    for (const mount of this.#mounts) {
      if (mount === path || mount.startsWith(`${path}/`)) return true;
    }
    return false;
  }

  /** The staging, old and temporary entries of this run. */
  #isOurs(name: string): boolean {
    return name.startsWith(".packrat-") && name.includes(this.#tag);
  }

  #rollback(cause: unknown): Error {
    const failures: string[] = [];
    for (const undo of this.#undo.reverse()) {
      try {
        undo();
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    const reason = (cause as Error).message;
    if (failures.length > 0) {
      return new PackratError(
        `restoring into ${this.#target} failed (${reason}), and putting the previous contents back failed too (${
          failures[0]
        }${
          failures.length > 1 ? ` and ${failures.length - 1} more` : ""
        }); what could not be put back is in ${[...this.#oldDirs].join(", ")}`,
        { cause },
      );
    }
    for (const oldDir of this.#oldDirs) removeEmptyDirs(oldDir);
    return new PackratError(
      `restoring into ${this.#target} failed (${reason}); the previous contents were put back, nothing changed`,
      { cause },
    );
  }
}

function removeOrThrow(path: string): void {
  const problems = removeTree(path);
  if (problems.length > 0) throw new Error(problems[0]);
}

function join(rel: string, name: string): string {
  return rel === "" ? name : `${rel}/${name}`;
}
