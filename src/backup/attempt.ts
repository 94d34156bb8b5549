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
import {
  type BackupReport,
  runBackup,
  type RunContext,
  StoredThenInterruptedError,
} from "./run.ts";

export interface AttemptOptions {
  readonly trigger: Trigger;
  /**
   * Called when the run stored nothing: plans another try and says when, or undefined when
   * there will be none. A failure that will be retried is reported to healthchecks only.
   */
  readonly retry?: () => Date | undefined;
}

/**
 * Runs one backup of `service` and records it: history and the healthchecks start ping once the
 * lock is held; the outcome and the metrics file before the lock is released; then the
 * notifications. Returns the report or throws the run's error, exactly as `runBackup` does.
 *
 * A run that found the service busy records and notifies nothing: it never started. One
 * stopped by SIGINT/SIGTERM is recorded as interrupted and notifies nobody — it is nobody's
 * failure, and the daemon catches it up when it starts again.
 */
export async function attemptBackup(
  ctx: RunContext,
  service: ServiceConfig,
  options: AttemptOptions,
): Promise<BackupReport> {
  const notifier = notifierFor(service.notify, ctx.log);
  const began = new Date();
  let started = false;
  let end: RunEnd | undefined;
  const onStarted = async () => {
    started = true;
    await ctx.onStarted?.();
    await updateHistory(
      ctx.stateDir,
      service.name,
      (h) => attemptStarted(h, options.trigger, began),
      (message) => ctx.log.warn(`${service.name}: ${message}`),
    );
    await notifier.started(service.name);
  };
  const onFinished = async (result: { report?: BackupReport; error?: unknown }) => {
    end = endOf(result, ctx.signal);
    const finished = end;
    await updateHistory(ctx.stateDir, service.name, (h) => attemptFinished(h, finished)).catch((
      error,
    ) => ctx.log.error(`${service.name}: ${messageOf(error)}`));
    await refreshMetrics(ctx.config, ctx.stateDir, ctx.log);
  };

  let report: BackupReport;
  try {
    report = await runBackup({ ...ctx, onStarted, onFinished }, service);
  } catch (error) {
    if (error instanceof LockedError && !started) throw error;
    const outcome = end?.outcome ?? (isInterruption(error, ctx.signal) ? "interrupted" : "failed");
    if (outcome !== "interrupted") {
      await notifier.finished(event(ctx, service, began, end ?? failedEnd(error), options));
    }
    throw error;
  }
  await notifier.finished(event(ctx, service, began, end!, options));
  return report;
}

function isInterruption(error: unknown, signal: AbortSignal | undefined): boolean {
  return error instanceof InterruptedError || signal?.aborted === true;
}

function failedEnd(error: unknown): RunEnd {
  return { outcome: "failed", finished: new Date(), error: messageOf(error) };
}

/**
 * How a run ended: succeeded only when every destination stored it and every step passed;
 * partial when stored somewhere but not all went well; interrupted when stopped by a signal
 * (with what it stored before, if anything); failed otherwise.
 */
function endOf(
  result: { report?: BackupReport; error?: unknown },
  signal: AbortSignal | undefined,
): RunEnd {
  const { error } = result;
  const report = result.report ??
    (error instanceof StoredThenInterruptedError ? error.report : undefined);
  if (!report) {
    return isInterruption(error, signal)
      ? { outcome: "interrupted", finished: new Date(), error: messageOf(error) }
      : failedEnd(error);
  }
  const stored = report.results.filter((r) => r.ok);
  const problems = [
    ...report.results.filter((r) => !r.ok).map((r) => `${r.destination}: ${r.error}`),
    ...[report.containerError, report.postBackupError].filter((p) => p !== undefined),
  ];
  return {
    outcome: error !== undefined
      ? "interrupted"
      : stored.length === 0
      ? "failed"
      : problems.length
      ? "partial"
      : "succeeded",
    finished: new Date(),
    error: error !== undefined
      ? messageOf(error)
      : problems.length
      ? problems.join("; ")
      : undefined,
    stored: stored.length
      ? {
        id: report.id,
        sizes: Object.fromEntries(stored.map((r) => [r.destination, report.size])),
        entries: report.entries,
      }
      : undefined,
  };
}

function event(
  ctx: RunContext,
  service: ServiceConfig,
  began: Date,
  end: RunEnd,
  options: AttemptOptions,
): RunEvent {
  const status = end.outcome === "succeeded" ? "succeeded" : end.stored ? "partial" : "failed";
  return {
    service: service.name,
    host: ctx.config.backup.host,
    status,
    error: end.error,
    durationMs: end.finished.getTime() - began.getTime(),
    sizes: end.stored?.sizes ?? {},
    backupId: end.stored?.id,
    time: end.finished,
    retryAt: status === "failed" ? options.retry?.() : undefined,
  };
}
