/**
 * Phase "copy" and "prune": stores the staged archive on every destination in parallel, then
 * applies retention on each destination that now holds it. One failing destination does not
 * stop the others.
 *
 * @module
 */
import type { RetentionPolicy } from "../config/types.ts";
import type { Destination } from "../destinations/destination.ts";
import type { Logger } from "../ui/log.ts";
import { pruneDestination } from "./prune_backups.ts";

export interface DestinationResult {
  readonly destination: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly durationMs: number;
  /** Ids retention deleted after the copy. */
  readonly pruned: readonly string[];
  readonly pruneError?: string;
}

export function copyArchive(options: {
  destinations: readonly Destination[];
  host: string;
  service: string;
  id: string;
  path: string;
  size: number;
  retention: RetentionPolicy;
  log: Logger;
  signal?: AbortSignal;
  /** Bytes stored so far on each destination. */
  onProgress?: (destination: string, sent: number) => void;
}): Promise<DestinationResult[]> {
  const { host, service, id, log } = options;
  return Promise.all(options.destinations.map(async (destination) => {
    const started = performance.now();
    try {
      await destination.put(
        host,
        service,
        id,
        options.path,
        options.size,
        options.signal,
        options.onProgress && ((sent) => options.onProgress!(destination.name, sent)),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.error(`${service}: upload failed: ${message}`);
      return {
        destination: destination.name,
        ok: false,
        error: message,
        durationMs: performance.now() - started,
        pruned: [],
      };
    }
    const durationMs = performance.now() - started;
    if (options.signal?.aborted) {
      return { destination: destination.name, ok: true, durationMs, pruned: [] };
    }
    try {
      const pruned = await pruneDestination({
        destination,
        host,
        service,
        retention: options.retention,
        protect: id,
        dryRun: false,
        log,
      });
      return { destination: destination.name, ok: true, durationMs, pruned };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.error(`${service}: retention failed: ${message}`);
      return {
        destination: destination.name,
        ok: true,
        durationMs,
        pruned: [],
        pruneError: message,
      };
    }
  }));
}
