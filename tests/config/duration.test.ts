import assert from "node:assert/strict";
import { parseDuration } from "../../src/config/duration.ts";

Deno.test("parseDuration reads Go-style durations into milliseconds", () => {
  const cases: Record<string, number> = {
    "0": 0,
    "90s": 90_000,
    "30m": 1_800_000,
    "2h": 7_200_000,
    "1h30m": 5_400_000,
    "500ms": 500,
    "1.5h": 5_400_000,
    ".5s": 500,
    "1.1s": 1_100,
    "2h45m30s": 9_930_000,
    "1500us": 1.5,
    "1500µs": 1.5,
    "1000000ns": 1,
    "0s": 0,
  };
  for (const [text, ms] of Object.entries(cases)) {
    assert.equal(parseDuration(text), ms, text);
  }
});

Deno.test("parseDuration refuses anything else", () => {
  for (
    const text of ["", "90", "30 minutes", "1d", "-5m", "+5m", "m", "1h 30m", "5M", "1..5s", "s5"]
  ) {
    assert.throws(
      () => parseDuration(text),
      (error: Error) =>
        error instanceof SyntaxError &&
        error.message === `"${text}" is not a duration ` +
            "(use Go-style durations such as 90s, 30m, 2h, 1h30m)",
      text,
    );
  }
});
