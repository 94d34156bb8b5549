/** @module Go-style durations ("90s", "30m", "1h30m") as used throughout the config file. */

const NANOSECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3, // U+00B5 MICRO SIGN
  "μs": 1e3, // U+03BC GREEK SMALL LETTER MU; Go accepts both
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

// Longer units first so that "ms" is not read as "m" followed by garbage.
const COMPONENT = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** How every duration error ends: the forms that work. */
const DURATION_HINT = "use Go-style durations such as 90s, 30m, 2h, 1h30m";

/**
 * Parses a Go-style duration into milliseconds: a sequence of decimal numbers, each with a
 * unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), or a bare `0`. Negative durations are refused:
 * nothing in a config can use one.
 *
 * @example
 * ```ts
 * parseDuration("1h30m"); // 5_400_000
 * parseDuration("500ms"); // 500
 * ```
 * @throws {SyntaxError} when `text` is not such a duration.
 */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const invalid = new SyntaxError(`"${text}" is not a duration (${DURATION_HINT})`);
  if (text === "") throw invalid;
  let nanoseconds = 0;
  for (let position = 0; position < text.length; position = COMPONENT.lastIndex) {
    COMPONENT.lastIndex = position;
    const match = COMPONENT.exec(text);
    if (!match) throw invalid;
    // Rounding each part to whole nanoseconds keeps "1.1s" at exactly 1100 ms.
    nanoseconds += Math.round(Number(match[1]) * NANOSECONDS_PER_UNIT[match[2]]);
  }
  return nanoseconds / 1e6;
}
