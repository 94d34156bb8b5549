/**
 * When a service runs: its cron schedule read in its time zone (croner does the calendar and
 * the daylight-saving arithmetic), the time it last should have run, and how long it normally
 * waits between runs.
 *
 * @module
 */
import { Cron } from "croner";
import type { ServiceConfig } from "../config/types.ts";

/** A service's schedule, resolved against its time zone. */
export interface Schedule {
  readonly expression: string;
  /** The IANA zone the expression is read in. */
  readonly timeZone: string;
  /** The first scheduled time strictly after `after`. */
  next(after: Date): Date | undefined;
  /** The last scheduled time at or before `at`. */
  previous(at: Date): Date | undefined;
  /**
   * The longest wait between two consecutive runs near `at` (a weekday-only schedule waits
   * three days over a weekend): the yardstick for "this service is overdue".
   */
  intervalMs(at: Date): number;
}

/** The machine's own zone, as the daemon reads schedules that set none. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * The service's schedule, or undefined for a manual-only service.
 *
 * @example
 * ```ts
 * scheduleOf({ ...service, schedule: "0 2 * * *", timezone: "Europe/Berlin" })
 *   ?.next(new Date("2026-11-30T12:00:00Z")); // 2026-12-01T01:00:00Z, 02:00 in Berlin
 * ```
 */
export function scheduleOf(
  service: Pick<ServiceConfig, "schedule" | "timezone">,
): Schedule | undefined {
  if (!service.schedule) return undefined;
  const timeZone = service.timezone ?? localTimeZone();
  const cron = new Cron(service.schedule, { mode: "5-part", timezone: timeZone, paused: true });
  const next = (after: Date) => cron.nextRun(after) ?? undefined;
  // croner's previousRuns excludes its reference time; a slot exactly at `at` counts here.
  const previous = (at: Date) => cron.previousRuns(1, new Date(at.getTime() + 1))[0];
  return {
    expression: service.schedule,
    timeZone,
    next,
    previous,
    intervalMs(at) {
      // The window includes a run exactly at `at`, or the gaps either side would count as one.
      const after = new Date(at.getTime() + 1);
      const runs = [...cron.previousRuns(4, after).reverse(), ...cron.nextRuns(4, after)];
      let longest = 0;
      for (let i = 1; i < runs.length; i++) {
        longest = Math.max(longest, runs[i].getTime() - runs[i - 1].getTime());
      }
      return longest;
    },
  };
}

/** When the daemon verifies the service's stored backups (`verify.schedule`), if ever. */
export function verifyScheduleOf(
  service: Pick<ServiceConfig, "verify" | "timezone">,
): Schedule | undefined {
  return scheduleOf({ schedule: service.verify.schedule, timezone: service.timezone });
}

/**
 * A time as the people who set the schedule read it, with its zone and UTC:
 * `2026-12-01 02:00 Europe/Berlin (01:00Z)`.
 */
export function formatLocal(time: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(time);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const utc = time.toISOString().slice(11, 16);
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${
    part("minute")
  } ${timeZone} (${utc}Z)`;
}
