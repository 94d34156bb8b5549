/**
 * Phase "archive": writes the service's encrypted archive into one staging file, so every
 * destination gets the same bytes and containers are down only while this runs.
 *
 * @module
 */
import { packArchive, type PackProgress, type PackResult } from "../archive/pack.ts";
import type { ServiceConfig } from "../config/types.ts";
import type { MasterKey } from "../crypto/key.ts";
import { PackratError } from "../errors.ts";
import { removeIfExists, writeAll } from "../io/files.ts";
import { VERSION } from "../version.ts";
import type { Journal } from "../state/lock.ts";
import type { Logger } from "../ui/log.ts";

export interface StagedArchive extends PackResult {
  readonly path: string;
  readonly size: number;
}

/**
 * Archives `service.path` into `<stagingDir>/packrat-<service>-<id>.staging`. On any error the
 * staging file is removed before the error is rethrown; on success the caller removes it.
 */
export async function createArchive(options: {
  service: ServiceConfig;
  id: string;
  host: string;
  stagingDir: string;
  master: MasterKey;
  log: Logger;
  /** Notes the staging file before it exists, so that a run that dies leaves it to be removed. */
  journal: Journal;
  onProgress?: (progress: PackProgress) => void;
  signal?: AbortSignal;
  /** Absolute paths never archived, such as a local destination inside the service path. */
  skip?: readonly string[];
}): Promise<StagedArchive> {
  const { service, id, stagingDir } = options;
  const path = `${stagingDir}/packrat-${service.name}-${id}.staging`;
  let file: Deno.FsFile;
  options.journal.add("paths", path);
  try {
    await Deno.mkdir(stagingDir, { recursive: true });
    file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  } catch (error) {
    options.journal.remove("paths", path);
    throw new PackratError(
      `cannot create a staging file in ${stagingDir}: ${(error as Error).message}`,
    );
  }
  try {
    const result = await packArchive({
      root: service.path,
      exclude: service.exclude,
      master: options.master,
      // Shown by `list --json` from the header alone; authenticated with the archive.
      meta: { service: service.name, host: options.host, id, path: service.path, version: VERSION },
      sink: (bytes) => writeAll(file, bytes),
      warn: (message) => options.log.warn(`${service.name}: ${message}`),
      onProgress: options.onProgress,
      signal: options.signal,
      skip: new Set([stagingDir, ...options.skip ?? []]),
    });
    await file.sync();
    file.close();
    return { ...result, path, size: result.bytesOut };
  } catch (error) {
    try {
      file.close();
    } catch {
      // Already closed.
    }
    await removeIfExists(path);
    options.journal.remove("paths", path);
    if (isDiskFull(error)) {
      throw new PackratError(
        `the staging directory ${stagingDir} is full; free space there or set backup.staging_dir to a larger disk (nothing was kept)`,
      );
    }
    throw error;
  }
}

function isDiskFull(error: unknown): boolean {
  return error instanceof Error && /No space left|ENOSPC|os error 28/i.test(error.message);
}
