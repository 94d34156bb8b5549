/**
 * Doublestar globs, matched against paths relative to the service's `path`: `exclude` at backup,
 * `--include` at restore.
 *
 * `*` matches within one path segment, `**` as a whole segment matches zero or more segments,
 * `?` one character, `[abc]`/`[!a-z]` a class, `{a,b}` alternatives. Dotfiles are not special.
 * A trailing `/` matches directories only. `dir/**` also matches `dir` itself, so an excluded
 * directory is skipped as a whole.
 *
 * @example
 * ```ts
 * const match = compileGlobs(["**\/tmp/**", "**\/*.log"]);
 * match("a/tmp", true); // true
 * ```
 *
 * @module
 */

/** Compiles one pattern to a RegExp over `/`-separated relative paths; throws on bad syntax. */
export function globToRegExp(pattern: string): RegExp {
  const source = pattern.replace(/^\/+/, "").replace(/\/+$/, "");
  if (source === "") throw new Error(`empty pattern "${pattern}"`);
  const segments = source.split("/");
  let out = "";
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "**") {
      // Zero or more whole segments, including their separators.
      out += last ? (i === 0 ? ".*" : "(?:/.*)?") : (i === 0 ? "(?:.*/)?" : "/(?:.*/)?");
      return;
    }
    if (i > 0 && segments[i - 1] !== "**") out += "/";
    out += segmentToRegExp(segment, pattern);
  });
  return new RegExp(`^${out}$`, "u");
}

function segmentToRegExp(segment: string, pattern: string): string {
  let out = "";
  let braces = 0;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === "*") {
      out += "[^/]*";
      while (segment[i + 1] === "*") i++;
    } else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 2);
      if (end < 0) throw new Error(`unclosed "[" in pattern "${pattern}"`);
      let body = segment.slice(i + 1, end);
      const negate = body[0] === "!" || body[0] === "^";
      if (negate) body = body.slice(1);
      const regexpClass = `[${negate ? "^/" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
      try {
        new RegExp(regexpClass, "u");
      } catch {
        // e.g. a range written backwards, [z-a]
        throw new Error(
          `invalid character class "${segment.slice(i, end + 1)}" in pattern "${pattern}"`,
        );
      }
      out += regexpClass;
      i = end;
    } else if (c === "{") {
      braces++;
      out += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (c === "," && braces > 0) out += "|";
    else if (c === "\\" && i + 1 < segment.length) out += escapeRegExp(segment[++i]);
    else out += escapeRegExp(c);
  }
  if (braces > 0) throw new Error(`unclosed "{" in pattern "${pattern}"`);
  return out;
}

function escapeRegExp(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** A predicate over (relative path, is directory) that is true when any pattern matches. */
export type GlobMatcher = (relativePath: string, isDirectory: boolean) => boolean;

/** Compiles patterns into one matcher; throws on the first pattern with bad syntax. */
export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const compiled = patterns.map((p) => ({ regexp: globToRegExp(p), dirOnly: p.endsWith("/") }));
  if (compiled.length === 0) return () => false;
  return (path, isDirectory) =>
    compiled.some(({ regexp, dirOnly }) => (!dirOnly || isDirectory) && regexp.test(path));
}
