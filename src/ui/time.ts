/** @module Durations as people read them in status lines: `45s`, `12m`, `3h 5m`, `2d 4h`. */

const UNITS: readonly [string, number][] = [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]];

/**
 * A duration in its largest unit and the next one (when not zero), rounded down.
 *
 * @example
 * ```ts
 * formatAge(3 * 3_600_000 + 5 * 60_000); // "3h 5m"
 * ```
 */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const first = UNITS.findIndex(([, size]) => seconds >= size);
  if (first < 0) return "0s";
  const [unit, size] = UNITS[first];
  const text = `${Math.floor(seconds / size)}${unit}`;
  const next = UNITS[first + 1];
  const rest = next ? Math.floor((seconds % size) / next[1]) : 0;
  return rest > 0 ? `${text} ${rest}${next[0]}` : text;
}
