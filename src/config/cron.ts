/** @module Validates cron schedules: standard 5-field expressions and the @daily-style nicknames. */

import { Cron } from "croner";

const NICKNAMES: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const FIELDS = "minute hour day-of-month month day-of-week";

/**
 * Checks a cron schedule and returns it as a plain 5-field expression, with nicknames such as
 * `@daily` spelt out, so that whoever schedules from the config needs to know only one form.
 *
 * @example
 * ```ts
 * parseSchedule("0 2 * * MON-FRI"); // "0 2 * * MON-FRI"
 * parseSchedule("@weekly"); // "0 0 * * 0"
 * ```
 * @throws {SyntaxError} naming what is wrong.
 */
export function parseSchedule(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("@")) {
    const expansion = NICKNAMES[trimmed.toLowerCase()];
    if (expansion) return expansion;
    const known = Object.keys(NICKNAMES).join(", ");
    throw new SyntaxError(`"${text}" is not a supported schedule nickname (use one of ${known})`);
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) {
    // Croner would accept 6 or 7 fields (seconds, years); Packrat schedules by the minute.
    throw new SyntaxError(
      `"${text}" has ${fields.length} field${fields.length === 1 ? "" : "s"}; ` +
        `a schedule has exactly 5: ${FIELDS} (e.g. "0 2 * * *" for 2 AM daily)`,
    );
  }
  const expression = fields.join(" ");
  let cron: Cron;
  try {
    cron = new Cron(expression, { mode: "5-part" });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, "") : "";
    const lowered = reason.charAt(0).toLowerCase() + reason.slice(1);
    throw new SyntaxError(`"${text}" is not a valid cron schedule: ${lowered}`);
  }
  // Croner accepts dates that never come, such as 31 February.
  if (cron.nextRun() === null) {
    throw new SyntaxError(`"${text}" never matches a date`);
  }
  return expression;
}
