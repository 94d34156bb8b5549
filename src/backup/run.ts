/**
 * One backup run of one service, as a pipeline of phases:
 * archive into staging → copy to every destination → retention → clean up.
 * The CLI and the daemon both call `runBackup`.
 *
 * @module
 */
import type { PackProgress } from "../archive/pack.ts";
import type { Config, ServiceConfig } from "../config/types.ts";
import type { MasterKey } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { removeIfExists } from "../io/files.ts";
import type { Logger } from "../ui/log.ts";
import { copyArchive, type DestinationResult } from "./copy_archive.ts";
import { createArchive } from "./create_archive.ts";
import { newBackupId } from "./id.ts";

export interface RunContext {
  readonly config: Config;
  readonly master: MasterKey;
  readonly destinations: readonly Destination[];
  readonly log: Logger;
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
}

/** Backs up one service. Throws when no archive could be made; destination failures are in the report. */
export async function runBackup(ctx: RunContext, service: ServiceConfig): Promise<BackupReport> {
  const { config, log } = ctx;
  const started = performance.now();
  const id = newBackupId();
  log.info(`${service.name}: backing up ${service.path} as ${id}`);

  const staged = await createArchive({
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
