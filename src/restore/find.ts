/**
 * Finds the backup a restore or verify asks for, and reads it from the first destination that
 * has it, falling back to the next one when a copy cannot be read.
 *
 * @module
 */
import type { BackupRow } from "../catalog/catalog.ts";
import type { Destination } from "../destinations/destination.ts";
import { ArchiveDamagedError, DestinationError, PackratError, UsageError } from "../errors.ts";
import type { Logger } from "../ui/log.ts";

/**
 * Picks a backup by id, unique id prefix, or `latest`.
 */
export function pickBackup(rows: readonly BackupRow[], wanted: string, service: string): BackupRow {
  if (rows.length === 0) {
    throw new PackratError(
      `${service} has no backups yet; make one with \`packrat backup ${service}\``,
    );
  }
  if (wanted === "latest") return rows[0];
  const exact = rows.find((r) => r.id === wanted);
  if (exact) return exact;
  const matches = rows.filter((r) => r.id.startsWith(wanted));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new UsageError(
      `"${wanted}" matches ${matches.length} backups of ${service}; give more of the id`,
    );
  }
  throw new UsageError(
    `${service} has no backup "${wanted}"; \`packrat list ${service}\` shows the ids`,
  );
}

/**
 * The destinations to read `row` from: `--from` alone, else every holder in config order.
 * `unreachable` names the destinations that could not be listed: they may hold it.
 */
export function sourcesFor(
  destinations: readonly Destination[],
  row: BackupRow,
  from?: string,
  unreachable: ReadonlyMap<string, string> = new Map(),
): Destination[] {
  if (from) {
    const chosen = destinations.find((d) => d.name === from);
    if (!chosen) {
      throw new UsageError(
        `--from ${from}: no such destination (configured: ${
          destinations.map((d) => d.name).join(", ")
        })`,
      );
    }
    const why = unreachable.get(from);
    if (why !== undefined) {
      throw new DestinationError(
        from,
        `unreachable, so backup ${row.id} cannot be read from it (${why.replace(`${from}: `, "")})`,
      );
    }
    if (!row.destinations.includes(from)) {
      throw new UsageError(
        `${from} does not hold backup ${row.id} (it is on ${row.destinations.join(", ")})`,
      );
    }
    return [chosen];
  }
  return destinations.filter((d) => row.destinations.includes(d.name));
}

/**
 * Runs `read` on each source in turn until one succeeds. Damage or a destination error moves
 * on to the next copy; any other error (e.g. the wrong key) stops at once.
 */
export async function readFromSources<T>(
  sources: readonly Destination[],
  host: string,
  row: BackupRow,
  log: Logger,
  read: (stream: ReadableStream<Uint8Array>, source: Destination) => Promise<T>,
  beforeRetry?: () => Promise<void>,
): Promise<T> {
  let lastError: unknown;
  for (const [i, destination] of sources.entries()) {
    if (i > 0) await beforeRetry?.();
    try {
      return await read(await destination.open(host, row.service, row.id), destination);
    } catch (error) {
      const retryable = error instanceof ArchiveDamagedError || error instanceof DestinationError;
      if (!retryable) throw error;
      lastError = error;
      if (i < sources.length - 1) {
        log.warn(`${(error as Error).message}; trying the copy on ${sources[i + 1].name}`);
      }
    }
  }
  throw lastError;
}
