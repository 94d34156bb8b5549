/**
 * Gathers what the state directory knows about every service — history and schedule — for
 * `packrat status`, the metrics file and the daemon's stale check.
 *
 * @module
 */
import type { Config, ServiceConfig } from "../config/types.ts";
import { destinationNames } from "../destinations/index.ts";
import { scheduleOf } from "../daemon/schedule.ts";
import { messageOf } from "../errors.ts";
import { findHistory, freshHistory, type ServiceHistory } from "../state/history.ts";
import type { Logger } from "../ui/log.ts";
import { type ServiceMetrics, writeMetricsFile } from "./metrics.ts";

/** A service's history and where its schedule stands at `now`. */
export interface ServiceState {
  readonly service: ServiceConfig;
  readonly history: ServiceHistory;
  /** Absent for manual-only services. */
  readonly nextRun?: Date;
  readonly intervalMs?: number;
  /** Whether Packrat has a history for it (it ran, or a daemon has seen it). */
  readonly known: boolean;
  /** Why its history could not be read; `history` is then a fresh one. */
  readonly problem?: string;
}

/** Every configured service's state, in config order. */
export function collectStates(
  config: Config,
  stateDir: string,
  now = new Date(),
): Promise<ServiceState[]> {
  return Promise.all(config.services.map(async (service) => {
    const schedule = scheduleOf(service);
    const timing = { nextRun: schedule?.next(now), intervalMs: schedule?.intervalMs(now) };
    try {
      const found = await findHistory(stateDir, service.name);
      const history = found ?? freshHistory(service.name, now);
      return { service, history, known: found !== undefined, ...timing };
    } catch (error) {
      // One unreadable history must not hide how the other services stand.
      const history = freshHistory(service.name, now);
      return { service, history, known: false, problem: messageOf(error), ...timing };
    }
  }));
}

/**
 * Whether a scheduled service is overdue: its newest backup is older than twice its interval.
 * With no backup at all, it is overdue once Packrat has known it that long — or at once when
 * Packrat has never seen it run (no daemon, no manual run). Manual-only services never are.
 */
export function isOverdue(state: ServiceState, now: Date, newest: Date | undefined): boolean {
  if (state.intervalMs === undefined) return false;
  if (!newest && !state.known) return true;
  const last = newest ?? new Date(state.history.since);
  return now.getTime() - last.getTime() > 2 * state.intervalMs;
}

/** The newest backup the history knows of. */
export function lastSuccessOf(state: ServiceState): Date | undefined {
  return dateOf(state.history.lastSuccess?.time);
}

function dateOf(iso: string | undefined): Date | undefined {
  return iso === undefined ? undefined : new Date(iso);
}

/** The metrics of each service, from its state. */
export function metricsOf(
  states: readonly ServiceState[],
  destinations: readonly string[],
): ServiceMetrics[] {
  return states.filter((state) => !state.problem).map(({ service, history, nextRun }) => {
    const attempt = history.lastAttempt;
    const finished = attempt?.outcome === "running" ? undefined : attempt;
    return {
      service: service.name,
      lastSuccess: dateOf(history.lastSuccess?.time),
      lastStatus: finished?.outcome as ServiceMetrics["lastStatus"],
      lastDurationMs: finished?.durationMs,
      sizes: history.lastSuccess?.sizes ?? {},
      nextRun,
      verify: verifyMetrics(history, destinations),
    };
  });
}

/** Per configured destination: the last verify and its damaged copies (a removed one is gone). */
function verifyMetrics(
  history: ServiceState["history"],
  configured: readonly string[],
): ServiceMetrics["verify"] {
  const record = history.verify;
  if (!record) return undefined;
  const result: Record<string, { time: Date; failures: number }> = {};
  for (const [destination, seen] of Object.entries(record.destinations)) {
    if (!configured.includes(destination)) continue;
    const damaged = Object.values(record.copies).filter((byDestination) =>
      byDestination[destination]?.intact === false
    ).length;
    result[destination] = {
      time: new Date(seen.time),
      failures: damaged || (seen.error ? 1 : 0),
    };
  }
  return result;
}

/**
 * Rewrites `backup.metrics_file`, when one is configured. A failure is logged, never thrown:
 * metrics must not fail a backup.
 */
export function refreshMetrics(config: Config, stateDir: string, log: Logger): Promise<void> {
  const path = config.backup.metricsFile;
  if (!path) return Promise.resolve();
  // One write at a time, each reading the state afresh: the last write is the newest state.
  metricsWrites = metricsWrites.then(async () => {
    try {
      const states = await collectStates(config, stateDir);
      await writeMetricsFile(path, metricsOf(states, destinationNames(config.backup)));
    } catch (error) {
      log.warn(`cannot write the metrics file ${path}: ${messageOf(error)}`);
    }
  });
  return metricsWrites;
}

let metricsWrites = Promise.resolve();
