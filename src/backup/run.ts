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
import { removeIfExists } from "../io/files.ts";
import { runHook } from "../hooks/run_hook.ts";
import type { Logger } from "../ui/log.ts";
import { withContainersStopped } from "./containers.ts";
import { acquireLock } from "./lock.ts";
import { copyArchive, type DestinationResult } from "./copy_archive.ts";
import { createArchive } from "./create_archive.ts";
import { newBackupId } from "./id.ts";

export interface RunContext {
  readonly config: Config;
  readonly master: MasterKey;
  readonly destinations: readonly Destination[];
  readonly log: Logger;
  /** Where per-service locks live (shared by the CLI and the daemon). */
  readonly stateDir: string;
  readonly onProgress?: (service: string, progress: PackProgress) => void;
  /** Aborted on SIGINT/SIGTERM: the run stops, cleans up and throws. */
  readonly signal?: AbortSignal;
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
  /** post_backup failed after the archive was stored. */
  readonly postBackupError?: string;
}

/**
 * Backs up one service: lock → pre_backup → stop containers → archive → start containers →
 * copy to every destination → retention → post_backup → unlock. Throws when no archive could
 * be made; destination failures are in the report.
 */
export async function runBackup(ctx: RunContext, service: ServiceConfig): Promise<BackupReport> {
  const release = await acquireLock(ctx.stateDir, service.name);
  try {
    let report: BackupReport;
    try {
      if (service.preBackup) await hook(ctx, service, "pre_backup", service.preBackup);
      report = await archiveAndCopy(ctx, service);
    } catch (error) {
      // post_backup undoes what pre_backup did (e.g. maintenance mode): run it on failure too.
      if (service.postBackup) {
        await hook(ctx, service, "post_backup", service.postBackup).catch((e) =>
          ctx.log.error((e as Error).message)
        );
      }
      throw error;
    }
    if (!service.postBackup) return report;
    try {
      await hook(ctx, service, "post_backup", service.postBackup);
      return report;
    } catch (error) {
      return { ...report, postBackupError: (error as Error).message };
    }
  } finally {
    await release();
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

async function archiveAndCopy(ctx: RunContext, service: ServiceConfig): Promise<BackupReport> {
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
      onProgress: ctx.onProgress && ((p) => ctx.onProgress!(service.name, p)),
      signal: ctx.signal,
      skip: config.backup.local ? [config.backup.local.path] : [],
    });
  // Containers are down only while the archive is written, never during the upload.
  const staged = service.docker
    ? await withContainersStopped({ docker: service.docker, service: service.name, log }, archive)
    : await archive();
  const archiveMs = performance.now() - started;
  try {
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
    });
    ctx.signal?.throwIfAborted();
    return {
      service: service.name,
      id,
      size: staged.size,
      bytesIn: staged.bytesIn,
      entries: staged.entries,
      warnings: staged.warnings,
      archiveMs,
      totalMs: performance.now() - started,
      results,
    };
  } finally {
    await removeIfExists(staged.path);
  }
}
