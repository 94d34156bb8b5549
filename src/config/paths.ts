/** @module Local paths in the config: `~` expansion and normalisation. */

/**
 * Expands a leading `~` or `~/` to `home` and normalises the result (no repeated or trailing
 * slashes, except for the root itself). Returns undefined when the result is not absolute:
 * a relative path would depend on the directory Packrat happens to be started from.
 *
 * @example
 * ```ts
 * localPath("~/.config/packrat/key", "/home/ann"); // "/home/ann/.config/packrat/key"
 * localPath("/mnt/usb/", "/home/ann"); // "/mnt/usb"
 * localPath("backups", "/home/ann"); // undefined
 * ```
 */
export function localPath(text: string, home: string): string | undefined {
  const expanded = text === "~" ? home : text.startsWith("~/") ? home + text.slice(1) : text;
  if (!expanded.startsWith("/")) return undefined;
  return normalizeSlashes(expanded);
}

/** Collapses repeated slashes and drops a trailing one; "/" stays "/". */
export function normalizeSlashes(path: string): string {
  const collapsed = path.replace(/\/{2,}/g, "/");
  return collapsed.length > 1 ? collapsed.replace(/\/$/, "") : collapsed;
}
