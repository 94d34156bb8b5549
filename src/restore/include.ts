/**
 * `--include`: which archive entries a partial restore selects.
 *
 * Patterns are the same doublestar globs as `exclude`. A matched directory selects everything
 * under it, so `--include sub` and `--include sub/` both restore the whole subtree (tar lists a
 * directory before its contents, so the match is known when the contents arrive).
 *
 * @module
 */
import { compileGlobs, type GlobMatcher } from "../archive/glob.ts";
import { UsageError } from "../errors.ts";

/** Compiles `--include` patterns; bad glob syntax is a usage error naming the pattern. */
export function compileIncludes(patterns: readonly string[]): GlobMatcher {
  try {
    return compileGlobs(patterns);
  } catch (error) {
    throw new UsageError(`--include: ${(error as Error).message}`);
  }
}

/** Tracks what a restore selects as the entries go by. */
export class Selection {
  /** Directories selected so far (matched, or under a matched one). */
  readonly dirs = new Set<string>();
  /** How many entries (not counting the root) were selected. */
  selected = 0;
  readonly #match?: GlobMatcher;
  readonly #patterns: readonly string[];

  /** With no patterns, everything is selected. */
  constructor(patterns: readonly string[]) {
    this.#patterns = patterns;
    if (patterns.length > 0) this.#match = compileIncludes(patterns);
  }

  get partial(): boolean {
    return this.#match !== undefined;
  }

  /** Whether to restore the entry at `rel` (`""` is the root, never selected by a pattern). */
  selects(rel: string, isDirectory: boolean): boolean {
    if (rel === "") return !this.partial;
    const chosen = !this.#match || this.#underSelectedDir(rel) || this.#match(rel, isDirectory);
    if (!chosen) return false;
    this.selected++;
    if (isDirectory) this.dirs.add(rel);
    return true;
  }

  /** Throws the usage error for a partial restore that selected nothing. */
  requireSome(backup: string): void {
    if (!this.partial || this.selected > 0) return;
    const list = this.#patterns.map((p) => `"${p}"`).join(", ");
    throw new UsageError(
      `nothing in backup ${backup} matches --include ${list}; nothing was changed (patterns are relative to the service path, e.g. "docs/**")`,
    );
  }

  #underSelectedDir(rel: string): boolean {
    for (let slash = rel.lastIndexOf("/"); slash > 0; slash = rel.lastIndexOf("/", slash - 1)) {
      if (this.dirs.has(rel.slice(0, slash))) return true;
    }
    return false;
  }
}
