/**
 * One backup run as the outside world sees it: the run itself (`runBackup`) wrapped in what
 * must happen around every run, manual or scheduled — the service's history, the metrics file
 * and the notifications.
 *
 * @module
 */
import type { ServiceConfig } from "../config/types.ts";
import { InterruptedError, LockedError, messageOf } from "../errors.ts";
import { notifierFor, type RunEvent } from "../notify/notify.ts";
import {
  attemptFinished,
  attemptStarted,
  type RunEnd,
  type Trigger,
  updateHistory,
} from "../state/history.ts";
import { refreshMetrics } from "../status/collect.ts";
import { type BackupReport, runBackup, type RunContext } from "./run.ts";

/**
 * Runs one backup of `service` and records it: history and the healthchecks start ping once the
 * lock is held, then the outcome, the metrics file and the notifications. Returns the report or
 * throws the run's error, exactly as `runBackup` does. A run that found the service busy
 * records and notifies nothing: it never started.
 */
export async function attemptBackup(
  ctx: RunContext,
  service: ServiceConfig,
  trigger: Trigger,
): Promise<BackupReport> {
  const notifier = notifierFor(service.notify, ctx.log);
  const started = new Date();
  const record = (end: RunEnd) =>
    updateHistory(ctx.stateDir, service.name, (h) => attemptFinished(h, end)).catch((error) =>
      ctx.log.error(`${service.name}: ${messageOf(error)}`)
    );
  const onStarted = async () => {
    await ctx.onStarted?.();
    await updateHistory(ctx.stateDir, service.name, (h) => attemptStarted(h, trigger, started));
    await notifier.started(service.name);
  };

  let report: BackupReport;
  try {
    report = await runBackup({ ...ctx, onStarted }, service);
  } catch (error) {
    if (error instanceof LockedError) throw error;
    const interrupted = error instanceof InterruptedError;
    await record({
      outcome: interrupted ? "interrupted" : "failed",
      finished: new Date(),
      error: messageOf(error),
    });
    await refreshMetrics(ctx.config, ctx.stateDir, ctx.log);
    // A stopped daemon catches the run up when it starts again: nothing to tell anyone yet.
    if (!interrupted) {
      await notifier.finished(event(ctx, service, started, "failed", messageOf(error)));
    }
    throw error;
  }

  const end = endOf(report);
  await record(end);
  await refreshMetrics(ctx.config, ctx.stateDir, ctx.log);
  await notifier.finished(
    event(ctx, service, started, end.outcome === "succeeded" ? "succeeded" : "partial", end.error, {
      id: report.id,
      sizes: end.stored?.sizes ?? {},
    }),
  );
  return report;
}

/** A report's outcome: succeeded only when every destination stored it and every step passed. */
function endOf(report: BackupReport): RunEnd & { outcome: "succeeded" | "partial" | "failed" } {
  const stored = report.results.filter((r) => r.ok);
  const problems = [
    ...report.results.filter((r) => !r.ok).map((r) => `${r.destination}: ${r.error}`),
    ...[report.containerError, report.postBackupError].filter((p) => p !== undefined),
  ];
  const outcome = stored.length === 0 ? "failed" : problems.length ? "partial" : "succeeded";
  return {
    outcome,
    finished: new Date(),
    error: problems.length ? problems.join("; ") : undefined,
    stored: stored.length
      ? {
        id: report.id,
        sizes: Object.fromEntries(stored.map((r) => [r.destination, report.size])),
      }
      : undefined,
  };
}

function event(
  ctx: RunContext,
  service: ServiceConfig,
  started: Date,
  status: RunEvent["status"],
  error: string | undefined,
  backup?: { id: string; sizes: Record<string, number> },
): RunEvent {
  const time = new Date();
  return {
    service: service.name,
    host: ctx.config.backup.host,
    status: backup && Object.keys(backup.sizes).length === 0 ? "failed" : status,
    error,
    durationMs: time.getTime() - started.getTime(),
    sizes: backup?.sizes ?? {},
    backupId: backup?.id,
    time,
  };
}
