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

/**
 * How long ago `time` was, in words: `just now`, `5 minutes ago`, `3 hours ago`, `2 days ago`.
 *
 * @example
 * ```ts
 * formatAgo(new Date(Date.now() - 3 * 3_600_000)); // "3 hours ago"
 * ```
 */
export function formatAgo(time: Date, now = new Date()): string {
  const seconds = Math.floor((now.getTime() - time.getTime()) / 1000);
  if (seconds < 60) return seconds < -60 ? "in the future" : "just now";
  const [unit, size] = AGO_UNITS.find(([, size]) => seconds >= size)!;
  const count = Math.floor(seconds / size);
  return `${count} ${unit}${count === 1 ? "" : "s"} ago`;
}

const AGO_UNITS: readonly [string, number][] = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["week", 7 * 86_400],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

/** A time in the machine's zone as people write it: `2026-11-30 14:02`. */
export function formatLocalTime(time: Date): string {
  return time.toLocaleString("sv-SE", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
}
