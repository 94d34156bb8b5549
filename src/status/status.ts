/**
 * `packrat status`: per service, what its history says (last success, last failure, next run)
 * and what the destinations hold (the newest backup on each) — and whether every scheduled
 * service has a backup younger than twice its interval.
 *
 * @module
 */
import { timeOfId } from "../catalog/id.ts";
import type { Config } from "../config/types.ts";
import type { Destination } from "../destinations/destination.ts";
import { messageOf } from "../errors.ts";
import type { ServiceHistory } from "../state/history.ts";
import { scheduleOf, verifyScheduleOf } from "../daemon/schedule.ts";
import { collectStates, isOverdue, lastSuccessOf } from "./collect.ts";

export interface DestinationStatus {
  readonly name: string;
  /** How many backups of the service it holds; undefined when it could not be listed. */
  readonly backups?: number;
  readonly newest?: { readonly id: string; readonly time: Date; readonly size: number };
  readonly error?: string;
  /** The ids it holds (when listed). */
  readonly ids?: ReadonlySet<string>;
}

/** What the verifies of one destination found. */
export interface VerifyDestinationStatus {
  readonly name: string;
  /** When a verify (or repair) last read from it. */
  readonly time?: string;
  /** Why it could not be read then. */
  readonly error?: string;
  /** Copies stored there whose last check found them damaged. */
  readonly damaged: readonly {
    readonly id: string;
    readonly time: string;
    readonly error?: string;
  }[];
}

export interface VerifyStatus {
  readonly schedule?: string;
  readonly nextRun?: Date;
  readonly lastRun?: NonNullable<ServiceHistory["verify"]>["lastRun"];
  readonly destinations: readonly VerifyDestinationStatus[];
  /** A stored copy's last check found it damaged (and it was not repaired since). */
  readonly damaged: boolean;
}

export interface ServiceStatus {
  readonly service: string;
  readonly schedule?: string;
  readonly timeZone?: string;
  readonly nextRun?: Date;
  readonly intervalMs?: number;
  readonly history: ServiceHistory;
  readonly destinations: readonly DestinationStatus[];
  /** The newest backup on any destination that could be listed. */
  readonly newest?: Date;
  /** Scheduled, and no backup younger than twice the interval. */
  readonly overdue: boolean;
  readonly verify: VerifyStatus;
  /** Why the service's history could not be read. */
  readonly problem?: string;
}

/** The status of each service; destinations are listed in parallel. */
export async function serviceStatuses(
  config: Config,
  stateDir: string,
  destinations: readonly Destination[],
  now = new Date(),
): Promise<ServiceStatus[]> {
  const states = await collectStates(config, stateDir, now);
  return Promise.all(states.map(async (state) => {
    const name = state.service.name;
    const onDestinations = await destinationsOf(destinations, config.backup.host, name);
    const times = onDestinations.flatMap((d) => d.newest ? [d.newest.time] : []);
    // What the destinations hold is the truth; the history only when none could be listed.
    const listed = onDestinations.some((d) => d.error === undefined);
    const newest = times.length
      ? new Date(Math.max(...times.map((t) => t.getTime())))
      : listed
      ? undefined
      : lastSuccessOf(state);
    const schedule = scheduleOf(state.service);
    const verifySchedule = verifyScheduleOf(state.service);
    const verify = verifyStatus(state.history, onDestinations);
    return {
      service: name,
      schedule: schedule?.expression,
      timeZone: schedule?.timeZone,
      nextRun: state.nextRun,
      intervalMs: state.intervalMs,
      history: state.history,
      destinations: onDestinations,
      newest,
      overdue: isOverdue(state, now, newest),
      verify: {
        schedule: verifySchedule?.expression,
        nextRun: verifySchedule?.next(now),
        lastRun: state.history.verify?.lastRun,
        ...verify,
      },
      problem: state.problem,
    };
  }));
}

/** Each destination's backups of the service: how many, and the newest (ids sort by time). */
async function destinationsOf(
  destinations: readonly Destination[],
  host: string,
  service: string,
): Promise<DestinationStatus[]> {
  const listings = await Promise.allSettled(destinations.map((d) => d.list(host, service)));
  return listings.map((listing, i) => {
    const name = destinations[i].name;
    if (listing.status === "rejected") return { name, error: messageOf(listing.reason) };
    const archives = listing.value;
    const newest = archives.reduce<typeof archives[number] | undefined>(
      (best, archive) => !best || archive.id > best.id ? archive : best,
      undefined,
    );
    return {
      name,
      backups: archives.length,
      newest: newest && { id: newest.id, time: timeOfId(newest.id), size: newest.size },
      ids: new Set(archives.map((a) => a.id)),
    };
  });
}

/**
 * Per destination: the last verify and the copies found damaged that are still stored there
 * (a destination that could not be listed keeps its damaged copies: they may still be there).
 */
function verifyStatus(
  history: ServiceHistory,
  destinations: readonly DestinationStatus[],
): Pick<VerifyStatus, "destinations" | "damaged"> {
  const record = history.verify;
  const result = destinations.map((d): VerifyDestinationStatus => {
    const damaged = Object.entries(record?.copies ?? {}).flatMap(([id, byDestination]) => {
      const check = byDestination[d.name];
      if (!check || check.intact || (d.ids && !d.ids.has(id))) return [];
      return [{ id, time: check.time, error: check.error }];
    });
    const seen = record?.destinations[d.name];
    return { name: d.name, time: seen?.time, error: seen?.error, damaged };
  });
  return { destinations: result, damaged: result.some((d) => d.damaged.length > 0) };
}
