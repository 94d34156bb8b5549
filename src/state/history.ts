/**
 * What Packrat remembers about each service between runs: the last attempt, the last success,
 * the last failure, how many runs in a row failed. `packrat status`, the metrics file, catch-up
 * and the stale check read it; every backup run (CLI or daemon) writes it.
 *
 * One JSON file per service, `<state dir>/services/<service>.json`, replaced atomically.
 *
 * @module
 */
import { messageOf, PackratError } from "../errors.ts";
import { writeFileAtomic } from "../io/files.ts";
import { adoptStateOwner } from "./directory.ts";

/** What started a run. */
export type Trigger = "schedule" | "catch-up" | "retry" | "manual";

/** How a run ended. "partial": stored, but not on every destination (or a step after failed). */
export type Outcome = "running" | "succeeded" | "partial" | "failed" | "interrupted";

export interface Attempt {
  /** ISO 8601 UTC. */
  readonly started: string;
  readonly finished?: string;
  readonly trigger: Trigger;
  readonly outcome: Outcome;
  readonly error?: string;
  readonly durationMs?: number;
  readonly pid: number;
}

export interface Success {
  readonly id: string;
  /** When the run finished, ISO 8601 UTC. */
  readonly time: string;
  readonly durationMs: number;
  /** Encrypted bytes stored per destination that holds the backup. */
  readonly sizes: Readonly<Record<string, number>>;
  /** Files, directories and links in the archive (the restore selector shows it). */
  readonly entries?: number;
}

export interface ServiceHistory {
  readonly service: string;
  /** When Packrat first saw the service: catch-up and the stale check count from here. */
  readonly since: string;
  readonly lastAttempt?: Attempt;
  /**
   * When the newest attempt that ran to an end (not interrupted) started: a scheduled time
   * after it passed without a run.
   */
  readonly lastRunStarted?: string;
  readonly lastSuccess?: Success;
  readonly lastFailure?: { readonly time: string; readonly error: string };
  readonly consecutiveFailures: number;
  /** Set when a "no recent backup" notification went out; cleared by the next success. */
  readonly staleNotified?: string;
  /** What reading the stored copies back (verify, repair) found. */
  readonly verify?: VerifyHistory;
}

/** The last time one copy of a backup was read through, and what that found. */
export interface CopyCheck {
  /** ISO 8601 UTC. */
  readonly time: string;
  readonly intact: boolean;
  /** Why it is not intact. */
  readonly error?: string;
}

/** One copy checked: backup `id` on `destination`. */
export interface CheckedCopy extends CopyCheck {
  readonly id: string;
  readonly destination: string;
}

export interface VerifyHistory {
  /** Backup id → destination → the last check of that copy. Only backups still stored. */
  readonly copies: Readonly<Record<string, Readonly<Record<string, CopyCheck>>>>;
  /** Destination → when a verify last read from it, and why it could not, when it could not. */
  readonly destinations: Readonly<
    Record<string, { readonly time: string; readonly error?: string }>
  >;
  /** The last verify run of the service (scheduled or by hand). */
  readonly lastRun?: {
    readonly started: string;
    readonly finished: string;
    readonly trigger: Trigger;
    readonly outcome: "passed" | "failed" | "interrupted";
    readonly error?: string;
  };
}

/**
 * Notes the copies just checked. `stored`, when known (every destination could be listed),
 * drops the checks of backups no longer stored anywhere, so the record stays small.
 */
export function copiesChecked(
  history: ServiceHistory,
  checks: readonly CheckedCopy[],
  destinations: Readonly<Record<string, { time: string; error?: string }>> = {},
  stored?: ReadonlySet<string>,
): ServiceHistory {
  const before = history.verify ?? { copies: {}, destinations: {} };
  const copies: Record<string, Record<string, CopyCheck>> = {};
  for (const [id, byDestination] of Object.entries(before.copies)) {
    if (!stored || stored.has(id)) copies[id] = { ...byDestination };
  }
  for (const { id, destination, ...check } of checks) {
    copies[id] = { ...copies[id], [destination]: check };
  }
  return {
    ...history,
    verify: { ...before, copies, destinations: { ...before.destinations, ...destinations } },
  };
}

/** A history file that is not one (a torn disk write, a hand edit gone wrong). */
export class DamagedHistoryError extends PackratError {
  constructor(readonly path: string) {
    super(`${path} is damaged; move it away and Packrat starts this service's history afresh`);
  }
}

function historyPath(stateDir: string, service: string): string {
  return `${stateDir}/services/${service}.json`;
}

/** The history of a service Packrat has just met: it counts from `now`. */
export function freshHistory(service: string, now = new Date()): ServiceHistory {
  return { service, since: now.toISOString(), consecutiveFailures: 0 };
}

/** The service's history; a service never seen before gets a fresh one (not yet written). */
export async function readHistory(
  stateDir: string,
  service: string,
  now = new Date(),
): Promise<ServiceHistory> {
  return await findHistory(stateDir, service) ?? freshHistory(service, now);
}

/** The service's history, or undefined when Packrat has none yet. */
export async function findHistory(
  stateDir: string,
  service: string,
): Promise<ServiceHistory | undefined> {
  const path = historyPath(stateDir, service);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new PackratError(`cannot read ${path}: ${messageOf(error)}`);
  }
  try {
    const value = JSON.parse(text);
    if (value?.service !== service || typeof value.since !== "string") throw new Error("");
    return value as ServiceHistory;
  } catch {
    throw new DamagedHistoryError(path);
  }
}

/** Whether Packrat has a history for the service (has seen it before). */
export async function hasHistory(stateDir: string, service: string): Promise<boolean> {
  try {
    await Deno.lstat(historyPath(stateDir, service));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Replaces the service's history atomically. */
export async function writeHistory(stateDir: string, history: ServiceHistory): Promise<void> {
  const dir = `${stateDir}/services`;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    adoptStateOwner(stateDir, dir);
    await writeFileAtomic(
      historyPath(stateDir, history.service),
      `${JSON.stringify(history, null, 2)}\n`,
    );
  } catch (error) {
    throw new PackratError(
      `cannot write ${historyPath(stateDir, history.service)}: ${
        messageOf(error)
      } (is the state directory writable?)`,
    );
  }
}

/**
 * Reads, changes and writes back the service's history; returns the new one. A damaged history
 * is moved aside (`….json.damaged`, reported through `onDamaged`) and started afresh, so that
 * one bad file never stops the service's backups.
 */
export async function updateHistory(
  stateDir: string,
  service: string,
  change: (history: ServiceHistory) => ServiceHistory,
  onDamaged: (message: string) => void = () => {},
): Promise<ServiceHistory> {
  let history: ServiceHistory;
  try {
    history = await readHistory(stateDir, service);
  } catch (error) {
    if (!(error instanceof DamagedHistoryError)) throw error;
    await Deno.rename(error.path, `${error.path}.damaged`);
    onDamaged(`${error.path} was damaged; moved to ${error.path}.damaged, history starts afresh`);
    history = await readHistory(stateDir, service);
  }
  const updated = change(history);
  await writeHistory(stateDir, updated);
  return updated;
}

/** A run began: note it, so that a crash mid-run is visible as an attempt that never ended. */
export function attemptStarted(
  history: ServiceHistory,
  trigger: Trigger,
  started: Date,
): ServiceHistory {
  return {
    ...history,
    lastAttempt: { started: started.toISOString(), trigger, outcome: "running", pid: Deno.pid },
  };
}

/** What a finished run reports to its history. */
export interface RunEnd {
  readonly outcome: Exclude<Outcome, "running">;
  readonly finished: Date;
  readonly error?: string;
  /** Set when the backup was stored on at least one destination. */
  readonly stored?: Omit<Success, "time" | "durationMs">;
}

/** A run ended: update the last success, the last failure and the failure count. */
export function attemptFinished(history: ServiceHistory, end: RunEnd): ServiceHistory {
  // A run that failed before it could note its start has only its end.
  const attempt = history.lastAttempt?.outcome === "running" ? history.lastAttempt : undefined;
  const started = attempt?.started ?? end.finished.toISOString();
  const durationMs = end.finished.getTime() - Date.parse(started);
  const time = end.finished.toISOString();
  const interrupted = end.outcome === "interrupted";
  return {
    ...history,
    lastAttempt: {
      started,
      finished: time,
      trigger: attempt?.trigger ?? "manual",
      outcome: end.outcome,
      error: end.error,
      durationMs,
      pid: Deno.pid,
    },
    lastRunStarted: interrupted ? history.lastRunStarted : started,
    lastSuccess: end.stored ? { ...end.stored, time, durationMs } : history.lastSuccess,
    lastFailure: end.error && !interrupted ? { time, error: end.error } : history.lastFailure,
    consecutiveFailures: end.outcome === "succeeded"
      ? 0
      : interrupted
      ? history.consecutiveFailures
      : history.consecutiveFailures + 1,
    staleNotified: end.stored ? undefined : history.staleNotified,
  };
}
