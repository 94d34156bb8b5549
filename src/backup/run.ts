/**
 * One backup run of one service, as a pipeline of phases (see `runBackup`). The CLI and the
 * daemon both call `runBackup`.
 *
 * @module
 */
import type { PackProgress } from "../archive/pack.ts";
import type { Config, HookConfig, ServiceConfig } from "../config/types.ts";
import type { MasterKey } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { withContainersStopped } from "../docker/stop_start.ts";
import { InterruptedError, messageOf } from "../errors.ts";
import { removeIfExists } from "../io/files.ts";
import { settleLater } from "../io/settle.ts";
import { runHook } from "../hooks/run_hook.ts";
import { StateLock } from "../state/lock.ts";
import { recoverDeadRuns } from "../state/recover.ts";
import type { Logger } from "../ui/log.ts";
import { cleanUploads } from "./clean_uploads.ts";
import { copyArchive, type DestinationResult } from "./copy_archive.ts";
import { createArchive } from "./create_archive.ts";
import { newBackupId } from "../catalog/id.ts";

export interface RunContext {
  readonly config: Config;
  readonly master: MasterKey;
  readonly destinations: readonly Destination[];
  readonly log: Logger;
  /** The state directory: per-service locks and run records, shared by the CLI and the daemon. */
  readonly stateDir: string;
  readonly onProgress?: (service: string, progress: PackProgress) => void;
  /** Bytes of the archive (`size` in all) stored so far on `destination`. */
  readonly onUploadProgress?: (
    service: string,
    destination: string,
    sent: number,
    size: number,
  ) => void;
  /** Aborted on SIGINT/SIGTERM: the run stops, cleans up and throws. */
  readonly signal?: AbortSignal;
  /** Called once the run holds the service's lock, before anything else happens. */
  readonly onStarted?: () => Promise<void>;
  /**
   * Called with the run's report or error while the run still holds the lock, so that what it
   * records cannot interleave with the next run of the service.
   */
  readonly onFinished?: (end: { report?: BackupReport; error?: unknown }) => Promise<void>;
}

export interface BackupReport {
  readonly service: string;
  readonly id: string;
  /** Encrypted archive size in bytes. */
  readonly size: number;
  /** Uncompressed tar bytes read from the service path. */
  readonly bytesIn: number;
  readonly entries: number;
  readonly warnings: number;
  readonly archiveMs: number;
  readonly totalMs: number;
  readonly results: readonly DestinationResult[];
  /** Containers did not come back after the archive was made (it was stored all the same). */
  readonly containerError?: string;
  /** post_backup failed after the archive was stored. */
  readonly postBackupError?: string;
}

/**
 * Backs up one service: lock → recover what dead runs left → pre_backup → stop containers →
 * archive → start containers → copy to every destination → retention → post_backup → unlock.
 * Throws when no archive could be made; destination failures are in the report.
 */
export async function runBackup(ctx: RunContext, service: ServiceConfig): Promise<BackupReport> {
  const lock = StateLock.service(ctx.stateDir, service.name, "backup");
  try {
    await ctx.onStarted?.();
    let report: BackupReport;
    try {
      report = await lockedRun(ctx, service, lock);
    } catch (error) {
      await ctx.onFinished?.({ error });
      throw error;
    }
    await ctx.onFinished?.({ report });
    return report;
  } finally {
    lock.release();
  }
}

async function lockedRun(
  ctx: RunContext,
  service: ServiceConfig,
  lock: StateLock,
): Promise<BackupReport> {
  ctx.signal?.throwIfAborted();
  await recoverDeadRuns(ctx, lock);
  ctx.signal?.throwIfAborted();
  // Runs while the archive is made; awaited before this run uploads anything.
  const cleaning = settleLater(cleanUploads({
    destinations: ctx.destinations,
    host: ctx.config.backup.host,
    service: service.name,
    lock,
    log: ctx.log,
  }));
  try {
    return await withHooks(ctx, service, () => archiveAndCopy(ctx, service, lock, cleaning));
  } finally {
    // Its error, if any, was the run's to report (archiveAndCopy awaits it).
    await cleaning.catch(() => {});
  }
}

/** pre_backup, the work, post_backup — which also runs when the work failed. */
async function withHooks(
  ctx: RunContext,
  service: ServiceConfig,
  work: () => Promise<BackupReport>,
): Promise<BackupReport> {
  let report: BackupReport;
  try {
    if (service.preBackup) await hook(ctx, service, "pre_backup", service.preBackup);
    report = await work();
  } catch (error) {
    // post_backup undoes what pre_backup did (e.g. maintenance mode): run it on failure too.
    if (service.postBackup) {
      await hook(ctx, service, "post_backup", service.postBackup).catch((e) =>
        ctx.log.error(messageOf(e))
      );
    }
    throw error;
  }
  if (!service.postBackup) return report;
  try {
    await hook(ctx, service, "post_backup", service.postBackup);
    return report;
  } catch (error) {
    return { ...report, postBackupError: messageOf(error) };
  }
}

function hook(ctx: RunContext, service: ServiceConfig, name: string, config: HookConfig) {
  ctx.log.info(`${service.name}: running ${name}`);
  return runHook({
    hook: config,
    label: `${service.name}: ${name}`,
    log: ctx.log,
    signal: ctx.signal,
  });
}

async function archiveAndCopy(
  ctx: RunContext,
  service: ServiceConfig,
  lock: StateLock,
  cleaning: Promise<void>,
): Promise<BackupReport> {
  const { config, log } = ctx;
  const started = performance.now();
  const id = newBackupId();
  log.info(`${service.name}: backing up ${service.path} as ${id}`);

  const archive = () =>
    createArchive({
      service,
      id,
      host: config.backup.host,
      stagingDir: config.backup.stagingDir,
      master: ctx.master,
      log,
      journal: lock,
      onProgress: ctx.onProgress && ((p) => ctx.onProgress!(service.name, p)),
      signal: ctx.signal,
      skip: config.backup.local ? [config.backup.local.path] : [],
    });
  ctx.signal?.throwIfAborted();
  // Containers are down only while the archive is written, never during the upload.
  const { value: staged, restartError } = service.docker
    ? await withContainersStopped(
      { docker: service.docker, service: service.name, log, journal: lock },
      archive,
    )
    : { value: await archive(), restartError: undefined };
  const archiveMs = performance.now() - started;
  try {
    await cleaning;
    ctx.signal?.throwIfAborted();
    lock.add("uploads", id);
    const results = await copyArchive({
      destinations: ctx.destinations,
      host: config.backup.host,
      service: service.name,
      id,
      path: staged.path,
      size: staged.size,
      retention: service.retention,
      log,
      signal: ctx.signal,
      onProgress: ctx.onUploadProgress &&
        ((destination, sent) =>
          ctx.onUploadProgress!(service.name, destination, sent, staged.size)),
    });
    // A destination that failed may hold a partial upload: the next run removes it.
    if (results.every((r) => r.ok)) lock.remove("uploads", id);
    const report: BackupReport = {
      service: service.name,
      id,
      size: staged.size,
      bytesIn: staged.bytesIn,
      entries: staged.entries,
      warnings: staged.warnings,
      archiveMs,
      totalMs: performance.now() - started,
      results,
      containerError: restartError?.message,
    };
    if (ctx.signal?.aborted) throw interruptedAfterCopy(ctx.signal.reason, report);
    return report;
  } finally {
    await removeIfExists(staged.path);
    lock.remove("paths", staged.path);
  }
}

/** An interrupt during or after the copy, with the report of what was stored all the same. */
export class StoredThenInterruptedError extends InterruptedError {
  constructor(signalName: string, detail: string, readonly report: BackupReport) {
    super(signalName, detail);
  }
}

/** An interrupt during the copy: say which destinations hold the backup all the same. */
function interruptedAfterCopy(reason: unknown, report: BackupReport): unknown {
  if (!(reason instanceof InterruptedError)) return reason;
  const { results, id } = report;
  const stored = results.filter((r) => r.ok).map((r) => r.destination);
  if (stored.length === 0) return reason;
  const where = stored.length === results.length
    ? `every destination (${stored.join(", ")})`
    : `${stored.join(", ")} (not on ${
      results.filter((r) => !r.ok).map((r) => r.destination).join(", ")
    })`;
  return new StoredThenInterruptedError(
    reason.signalName,
    `backup ${id} was stored on ${where}`,
    report,
  );
}
