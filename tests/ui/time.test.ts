/** Durations as status lines show them. */
import assert from "node:assert/strict";
import { formatAge } from "../../src/ui/time.ts";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

Deno.test("formatAge: the largest unit and the next one", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [45 * SECOND, "45s"],
    [12 * MINUTE, "12m"],
    [3 * HOUR + 5 * MINUTE, "3h 5m"],
    [2 * DAY + 4 * HOUR, "2d 4h"],
    [90 * MINUTE, "1h 30m"],
    [MINUTE + 5 * SECOND, "1m 5s"],
  ];
  for (const [ms, text] of cases) assert.equal(formatAge(ms), text, `${ms} ms`);
});

Deno.test("formatAge leaves out a next unit that is zero, and anything smaller", () => {
  assert.equal(formatAge(DAY), "1d");
  assert.equal(formatAge(DAY + 59 * MINUTE), "1d");
  assert.equal(formatAge(3 * HOUR + 30 * SECOND), "3h");
  assert.equal(formatAge(3 * HOUR + 5 * MINUTE + 59 * SECOND), "3h 5m");
  assert.equal(formatAge(40 * DAY), "40d");
});

Deno.test("formatAge rounds down, and a negative age is 0s", () => {
  assert.equal(formatAge(999), "0s");
  assert.equal(formatAge(MINUTE - 1), "59s");
  assert.equal(formatAge(HOUR - 1), "59m 59s");
  assert.equal(formatAge(-1), "0s");
  assert.equal(formatAge(-5 * MINUTE), "0s");
});
