/**
 * `--before TIME`: the point in time a restore goes back to — an ISO date or date-time, or an
 * age such as `3 days ago`.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

const UNITS: Readonly<Record<string, number>> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/**
 * The instant `text` names. A date alone means its start in the machine's zone; a date-time
 * without a zone is local time too.
 *
 * @example
 * ```ts
 * parseBefore("3 days ago"); // now minus 72 hours
 * parseBefore("2026-11-28T03:00Z");
 * ```
 * @throws {UsageError} naming the forms it takes.
 */
export function parseBefore(text: string, now = new Date()): Date {
  const trimmed = text.trim().toLowerCase();
  const age = /^(\d+)\s*(second|minute|hour|day|week)s?\s+ago$/.exec(trimmed);
  if (age) return new Date(now.getTime() - Number(age[1]) * UNITS[age[2]]);
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(trimmed);
  if (date) {
    const local = new Date(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
    if (!Number.isNaN(local.getTime()) && local.getDate() === Number(date[3])) return local;
  } else if (/^\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}/.test(trimmed)) {
    const time = new Date(text.trim().replace(" ", "T"));
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw new UsageError(
    `--before "${text}" is not a time: use a date (2026-11-28), a date and time ` +
      `(2026-11-28T03:00, local unless it ends in Z or +01:00) or an age ("3 days ago")`,
  );
}
