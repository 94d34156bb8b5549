/**
 * Gathers what the state directory knows about every service — history and schedule — for
 * `packrat status`, the metrics file and the daemon's stale check.
 *
 * @module
 */
import type { Config, ServiceConfig } from "../config/types.ts";
import { scheduleOf } from "../daemon/schedule.ts";
import { messageOf } from "../errors.ts";
import { readHistory, type ServiceHistory } from "../state/history.ts";
import type { Logger } from "../ui/log.ts";
import { type ServiceMetrics, writeMetricsFile } from "./metrics.ts";

/** A service's history and where its schedule stands at `now`. */
export interface ServiceState {
  readonly service: ServiceConfig;
  readonly history: ServiceHistory;
  /** Absent for manual-only services. */
  readonly nextRun?: Date;
  readonly intervalMs?: number;
}

/** Every configured service's state, in config order. */
export function collectStates(
  config: Config,
  stateDir: string,
  now = new Date(),
): Promise<ServiceState[]> {
  return Promise.all(config.services.map(async (service) => {
    const schedule = scheduleOf(service);
    return {
      service,
      history: await readHistory(stateDir, service.name, now),
      nextRun: schedule?.next(now),
      intervalMs: schedule?.intervalMs(now),
    };
  }));
}

/**
 * Whether a scheduled service is overdue: its newest backup (by default the last success in its
 * history) is older than twice its interval — or, with none, Packrat has known the service that
 * long. Manual-only services never are.
 */
export function isOverdue(
  state: ServiceState,
  now: Date,
  newest = dateOf(state.history.lastSuccess?.time),
): boolean {
  if (state.intervalMs === undefined) return false;
  const last = newest ?? new Date(state.history.since);
  return now.getTime() - last.getTime() > 2 * state.intervalMs;
}

function dateOf(iso: string | undefined): Date | undefined {
  return iso === undefined ? undefined : new Date(iso);
}

/** The metrics of each service, from its state. */
export function metricsOf(states: readonly ServiceState[]): ServiceMetrics[] {
  return states.map(({ service, history, nextRun }) => {
    const attempt = history.lastAttempt;
    const finished = attempt?.outcome === "running" ? undefined : attempt;
    return {
      service: service.name,
      lastSuccess: dateOf(history.lastSuccess?.time),
      lastStatus: finished?.outcome as ServiceMetrics["lastStatus"],
      lastDurationMs: finished?.durationMs,
      sizes: history.lastSuccess?.sizes ?? {},
      nextRun,
    };
  });
}

/**
 * Rewrites `backup.metrics_file`, when one is configured. A failure is logged, never thrown:
 * metrics must not fail a backup.
 */
export async function refreshMetrics(config: Config, stateDir: string, log: Logger) {
  const path = config.backup.metricsFile;
  if (!path) return;
  try {
    await writeMetricsFile(path, metricsOf(await collectStates(config, stateDir)));
  } catch (error) {
    log.warn(`cannot write the metrics file ${path}: ${messageOf(error)}`);
  }
}
