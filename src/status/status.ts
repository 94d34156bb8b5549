/**
 * `packrat status`: per service, what its history says (last success, last failure, next run)
 * and what the destinations hold (the newest backup on each) — and whether every scheduled
 * service has a backup younger than twice its interval.
 *
 * @module
 */
import { listBackups } from "../catalog/catalog.ts";
import type { Config } from "../config/types.ts";
import type { Destination } from "../destinations/destination.ts";
import { messageOf } from "../errors.ts";
import type { ServiceHistory } from "../state/history.ts";
import type { Logger } from "../ui/log.ts";
import { scheduleOf } from "../daemon/schedule.ts";
import { collectStates, isOverdue } from "./collect.ts";

export interface DestinationStatus {
  readonly name: string;
  /** How many backups of the service it holds; undefined when it could not be listed. */
  readonly backups?: number;
  readonly newest?: { readonly id: string; readonly time: Date; readonly size: number };
  readonly error?: string;
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
}

/** The status of each service; destinations are listed in parallel. */
export async function serviceStatuses(
  config: Config,
  stateDir: string,
  destinations: readonly Destination[],
  log: Logger,
  now = new Date(),
): Promise<ServiceStatus[]> {
  const states = await collectStates(config, stateDir, now);
  return Promise.all(states.map(async (state) => {
    const name = state.service.name;
    const onDestinations = await destinationsOf(destinations, config.backup.host, name, log);
    const times = onDestinations.flatMap((d) => d.newest ? [d.newest.time] : []);
    const newest = times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : undefined;
    const schedule = scheduleOf(state.service);
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
    };
  }));
}

async function destinationsOf(
  destinations: readonly Destination[],
  host: string,
  service: string,
  log: Logger,
): Promise<DestinationStatus[]> {
  const quiet: Logger = { ...log, warn: () => {} };
  try {
    const catalog = await listBackups(destinations, host, service, quiet);
    return destinations.map((destination) => {
      const error = catalog.unreachable.get(destination.name);
      if (error !== undefined) return { name: destination.name, error };
      const held = catalog.rows.filter((row) => row.destinations.includes(destination.name));
      const newest = held[0];
      return {
        name: destination.name,
        backups: held.length,
        newest: newest && { id: newest.id, time: newest.time, size: newest.size },
      };
    });
  } catch (error) {
    // No destination could be listed at all.
    return destinations.map((d) => ({ name: d.name, error: messageOf(error) }));
  }
}
