/**
 * Where a restore writes: the service path or `--target`, as a clean absolute path with every
 * symbolic link resolved. A service path that is a link to the real directory (common for
 * data on another disk) is restored into that directory, and the link stays a link.
 *
 * @module
 */
import { PackratError, UsageError } from "../errors.ts";

/**
 * Resolves `path` (relative to `cwd`) to the real directory to restore into. A target that
 * does not exist yet is resolved as far as its parents exist. Throws when the path exists and
 * is not a directory, is a dangling link, or is `/`.
 */
export function resolveTarget(path: string, cwd = Deno.cwd()): string {
  const clean = normalise(path.startsWith("/") ? path : `${cwd}/${path}`);
  const resolved = realPathOfExisting(clean);
  if (resolved === "/") throw new UsageError(`refusing to restore into / (from ${path})`);
  return resolved;
}

/** `/a/./b/../c//` → `/a/c`, without touching the filesystem. */
export function normalise(absolute: string): string {
  const parts: string[] = [];
  for (const part of absolute.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** Resolves links in the longest existing prefix of `path` and appends the rest. */
function realPathOfExisting(path: string): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const slash = path.lastIndexOf("/");
    const parent = slash <= 0 ? "/" : path.slice(0, slash);
    const real = realPathOfExisting(parent);
    return `${real === "/" ? "" : real}/${path.slice(slash + 1)}`;
  }
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound) || !info.isSymlink) throw error;
    throw new PackratError(
      `${path} is a symbolic link to ${
        Deno.readLinkSync(path)
      }, which does not exist; create the directory first or restore with --target`,
    );
  }
  if (!Deno.statSync(real).isDirectory) {
    throw new PackratError(`cannot restore into ${path}: it is not a directory`);
  }
  return real;
}
