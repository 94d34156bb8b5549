import assert from "node:assert/strict";
import { parseSchedule } from "../../src/config/cron.ts";

Deno.test("parseSchedule accepts standard 5-field cron and normalises spacing", () => {
  for (
    const expression of [
      "0 2 * * *",
      "*/15 * * * *",
      "0 8-18/2 * * MON-FRI",
      "0 0 1 JAN,JUL *",
      "5,35 3 1-7 * sun",
      "0 0 * * 7",
    ]
  ) {
    assert.equal(parseSchedule(expression), expression);
  }
  assert.equal(parseSchedule("  0   2 * *  * "), "0 2 * * *");
});

Deno.test("parseSchedule spells out nicknames", () => {
  assert.equal(parseSchedule("@yearly"), "0 0 1 1 *");
  assert.equal(parseSchedule("@annually"), "0 0 1 1 *");
  assert.equal(parseSchedule("@monthly"), "0 0 1 * *");
  assert.equal(parseSchedule("@weekly"), "0 0 * * 0");
  assert.equal(parseSchedule("@daily"), "0 0 * * *");
  assert.equal(parseSchedule("@midnight"), "0 0 * * *");
  assert.equal(parseSchedule("@hourly"), "0 * * * *");
});

Deno.test("parseSchedule refuses bad schedules with a reason", () => {
  const cases: Record<string, RegExp> = {
    "0 2 * *": /has 4 fields; a schedule has exactly 5/,
    "0 0 2 * * *": /has 6 fields/,
    "": /has 1 field;/,
    "61 * * * *": /not a valid cron schedule: invalid value for minute: 61/,
    "0 24 * * *": /invalid value for hour: 24/,
    "0 2 * * 8": /invalid value for dayOfWeek: 8/,
    "0 2 * FOO *": /not a valid cron schedule/,
    "0 0 31 2 *": /never matches a date/,
    "@reboot": /not a supported schedule nickname/,
  };
  for (const [expression, reason] of Object.entries(cases)) {
    assert.throws(() => parseSchedule(expression), reason, expression);
  }
});
