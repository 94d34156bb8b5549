/**
 * A verify run as the daemon (and `packrat verify`) does it: read stored copies back in full,
 * record what each one was found to be, and tell someone when a copy cannot be restored.
 *
 * The service's lock is held while reading, as for a backup: a verify never runs beside a
 * backup of the same service, whose retention could delete the archive being read.
 *
 * @module
 */
import { type BackupRow, listBackups } from "../catalog/catalog.ts";
import type { Config, ServiceConfig } from "../config/types.ts";
import type { MasterKey } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { InterruptedError, LockedError, messageOf } from "../errors.ts";
import { notifierFor, type RunEvent } from "../notify/notify.ts";
import {
  type CheckedCopy,
  copiesChecked,
  type ServiceHistory,
  type Trigger,
  updateHistory,
} from "../state/history.ts";
import { StateLock } from "../state/lock.ts";
import { refreshMetrics } from "../status/collect.ts";
import type { Logger } from "../ui/log.ts";
import { type CopyVerdict, verifyCopies } from "../restore/verify.ts";

export interface VerifyContext {
  readonly config: Config;
  readonly destinations: readonly Destination[];
  readonly master: MasterKey;
  readonly stateDir: string;
  readonly log: Logger;
  /** Stops the run: it is recorded as interrupted, and the signal's reason thrown. */
  readonly signal?: AbortSignal;
  /** Bytes read so far of backup `row` on `destination`. */
  readonly onProgress?: (row: BackupRow, destination: string, read: number) => void;
}

/** One copy read: what the verify found. */
export interface CopyResult {
  readonly id: string;
  readonly destination: string;
  readonly status: CopyVerdict["status"];
  readonly error?: string;
}

export interface VerifyReport {
  /** Every copy read, newest backup first. */
  readonly results: readonly CopyResult[];
  /** Backups read (of those stored). */
  readonly backups: number;
  /** Reachable destinations that lack a backup that was read: `repair` copies it there. */
  readonly missing: readonly { readonly id: string; readonly destination: string }[];
  /** Destinations that could not be listed, and why. */
  readonly unreachable: ReadonlyMap<string, string>;
  /** Every backup id stored, when every destination could be listed. */
  readonly stored?: ReadonlySet<string>;
  readonly durationMs: number;
}

export interface VerifyOptions {
  /** What started the run, for its record. */
  readonly trigger: Trigger;
  /** Decompress at the lowest CPU priority (the daemon's runs). */
  readonly lowPriority?: boolean;
}

/** A copy's verdict as the report and the history keep it. */
export function resultOf(id: string, verdict: CopyVerdict): CopyResult {
  return {
    id,
    destination: verdict.destination,
    status: verdict.status,
    error: verdict.status === "intact" ? undefined : verdict.error,
  };
}

/** What went wrong, one clause per copy: `s3: backup X is damaged: …`. */
export function failuresOf(report: VerifyReport): string[] {
  const lines = report.results.filter((r) => r.status !== "intact").map((r) =>
    `${r.destination}: backup ${r.id} ${
      r.status === "damaged" ? "is damaged" : "could not be read"
    }: ${r.error}`
  );
  for (const [destination, why] of report.unreachable) {
    lines.push(`${destination}: could not be listed: ${why}`);
  }
  return lines;
}

/**
 * Verifies `service` as its `verify` settings say: the newest backup or all, every
 * destination's copy or the first intact one. Takes the service's lock (throws
 * LockedError when a backup holds it), records every copy read and the run in the history,
 * rewrites the metrics file, then notifies: a damaged copy always, a passed verify under
 * `on: always`. Returns the report; a verify that finds damage does not throw.
 */
export async function verifyService(
  ctx: VerifyContext,
  service: ServiceConfig,
  options: VerifyOptions,
): Promise<VerifyReport> {
  try {
    return await verifyLocked(ctx, service, options);
  } catch (error) {
    // Nothing could be read at all (every destination down, the wrong key): say so. A run that
    // was stopped, or found a backup holding the lock, is nobody's failure.
    const quiet = error instanceof InterruptedError || error instanceof LockedError ||
      ctx.signal?.aborted;
    if (!quiet) {
      await notifierFor(service.notify, ctx.log).finished({
        service: service.name,
        host: ctx.config.backup.host,
        kind: "verify",
        status: "failed",
        error: messageOf(error),
        sizes: {},
        time: new Date(),
      });
    }
    throw error;
  }
}

async function verifyLocked(
  ctx: VerifyContext,
  service: ServiceConfig,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const settings = service.verify;
  const lock = StateLock.service(ctx.stateDir, service.name, "verify");
  const started = new Date();
  let report: VerifyReport;
  try {
    try {
      report = await readBack(ctx, service, {
        copies: settings.copies,
        all: settings.destinations === "all",
        lowPriority: options.lowPriority ?? false,
        maxBytesPerSecond: settings.maxBytesPerSecond,
      });
    } catch (error) {
      const interrupted = error instanceof InterruptedError || ctx.signal?.aborted;
      await record(
        ctx,
        service,
        (h) =>
          withLastRun(h, started, options.trigger, interrupted ? "interrupted" : "failed", {
            error: messageOf(error),
          }),
      );
      throw error;
    }
    const failures = failuresOf(report);
    await record(ctx, service, (h) =>
      withLastRun(
        recordReport(h, report, new Date(), report.stored),
        started,
        options.trigger,
        failures.length ? "failed" : "passed",
        { error: failures.length ? failures.join("; ") : undefined },
      ));
    await refreshMetrics(ctx.config, ctx.stateDir, ctx.log);
  } finally {
    lock.release();
  }
  // With nothing stored yet there is nothing to report (the stale check covers that).
  if (report.backups > 0 || failuresOf(report).length > 0) {
    await notifierFor(service.notify, ctx.log).finished(eventOf(ctx.config, service, report));
  }
  return report;
}

/** Reads the selected backups' copies; no lock, no records. */
async function readBack(
  ctx: VerifyContext,
  service: ServiceConfig,
  options: {
    copies: "newest" | "all";
    all: boolean;
    lowPriority: boolean;
    maxBytesPerSecond?: number;
  },
): Promise<VerifyReport> {
  const began = performance.now();
  const host = ctx.config.backup.host;
  const { rows, unreachable } = await listBackups(ctx.destinations, host, service.name, ctx.log);
  const selected = options.copies === "all" ? rows : rows.slice(0, 1);
  const results: CopyResult[] = [];
  const missing: { id: string; destination: string }[] = [];
  for (const row of selected) {
    ctx.signal?.throwIfAborted();
    const sources = ctx.destinations.filter((d) => row.destinations.includes(d.name));
    const verdicts = await verifyCopies({
      sources,
      host,
      row,
      master: ctx.master,
      all: options.all,
      onProgress: ctx.onProgress &&
        ((destination, read) => ctx.onProgress!(row, destination, read)),
      lowPriority: options.lowPriority,
      maxBytesPerSecond: options.maxBytesPerSecond,
      signal: ctx.signal,
    });
    results.push(...verdicts.map((verdict) => resultOf(row.id, verdict)));
    for (const destination of ctx.destinations) {
      if (!row.destinations.includes(destination.name) && !unreachable.has(destination.name)) {
        missing.push({ id: row.id, destination: destination.name });
      }
    }
  }
  for (const { id, destination } of missing) {
    ctx.log.warn(
      `${service.name}: ${destination} holds no copy of ${id} (packrat repair copies it)`,
    );
  }
  return {
    results,
    backups: selected.length,
    missing,
    unreachable,
    stored: unreachable.size === 0 ? new Set(rows.map((r) => r.id)) : undefined,
    durationMs: performance.now() - began,
  };
}

/**
 * The history with the report's copies noted: a copy read through is intact or damaged; one
 * that could not be read (its destination failed) says nothing about the copy, only about the
 * destination.
 */
export function recordReport(
  history: ServiceHistory,
  report: Pick<VerifyReport, "results" | "unreachable">,
  at: Date,
  stored?: ReadonlySet<string>,
): ServiceHistory {
  const time = at.toISOString();
  const checks: CheckedCopy[] = report.results.filter((r) => r.status !== "unreachable").map((
    r,
  ) => ({
    id: r.id,
    destination: r.destination,
    time,
    intact: r.status === "intact",
    error: r.error,
  }));
  const destinations: Record<string, { time: string; error?: string }> = {};
  for (const result of report.results) {
    const seen = destinations[result.destination];
    destinations[result.destination] = {
      time,
      error: seen?.error ?? (result.status === "unreachable" ? result.error : undefined),
    };
  }
  for (const [destination, error] of report.unreachable) {
    destinations[destination] = { time, error };
  }
  return copiesChecked(history, checks, destinations, stored);
}

/**
 * Records copies read by `packrat verify` by hand, when the service's lock is free (a backup
 * holding it may be about to delete one of them): returns whether it did.
 */
export async function recordManualChecks(
  ctx: Pick<VerifyContext, "config" | "stateDir" | "log">,
  service: string,
  report: Pick<VerifyReport, "results" | "unreachable" | "stored">,
): Promise<boolean> {
  const lock = StateLock.try(ctx.stateDir, service, "verify");
  if (!lock) return false;
  try {
    await updateHistory(
      ctx.stateDir,
      service,
      (h) => recordReport(h, report, new Date(), report.stored),
      (message) => ctx.log.warn(`${service}: ${message}`),
    );
    await refreshMetrics(ctx.config, ctx.stateDir, ctx.log);
    return true;
  } finally {
    lock.release();
  }
}

function withLastRun(
  history: ServiceHistory,
  started: Date,
  trigger: Trigger,
  outcome: "passed" | "failed" | "interrupted",
  { error }: { error?: string },
): ServiceHistory {
  const verify = history.verify ?? { copies: {}, destinations: {} };
  return {
    ...history,
    verify: {
      ...verify,
      lastRun: {
        started: started.toISOString(),
        finished: new Date().toISOString(),
        trigger,
        outcome,
        error,
      },
    },
  };
}

async function record(
  ctx: VerifyContext,
  service: ServiceConfig,
  change: (history: ServiceHistory) => ServiceHistory,
): Promise<void> {
  await updateHistory(
    ctx.stateDir,
    service.name,
    change,
    (message) => ctx.log.warn(`${service.name}: ${message}`),
  );
}

/** The notification: "damaged" for a copy that failed, "failed" when one could not be read. */
export function eventOf(config: Config, service: ServiceConfig, report: VerifyReport): RunEvent {
  const failures = failuresOf(report);
  const damaged = report.results.filter((r) => r.status === "damaged");
  const failedOn = [
    ...new Set([
      ...report.results.filter((r) => r.status !== "intact").map((r) => r.destination),
      ...report.unreachable.keys(),
    ]),
  ];
  return {
    service: service.name,
    host: config.backup.host,
    kind: "verify",
    status: damaged.length ? "damaged" : failures.length ? "failed" : "verified",
    error: failures.length ? failures.join("; ") : undefined,
    durationMs: report.durationMs,
    sizes: {},
    backupId: damaged[0]?.id ?? report.results.find((r) => r.status !== "intact")?.id ??
      report.results[0]?.id,
    destinations: failedOn.length ? failedOn : undefined,
    time: new Date(),
  };
}
