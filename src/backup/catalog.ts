/**
 * What the destinations hold: one row per backup id, with every destination that has it.
 *
 * @module
 */
import type { Destination } from "../destinations/destination.ts";
import { DestinationError } from "../errors.ts";
import type { Logger } from "../ui/log.ts";
import { timeOfId } from "./id.ts";

export interface BackupRow {
  readonly service: string;
  readonly id: string;
  readonly time: Date;
  readonly size: number;
  /** Destination names holding this backup, in configuration order. */
  readonly destinations: string[];
}

/**
 * Lists a service's backups on all destinations, newest first. A destination that cannot be
 * listed is reported through `log` and left out; if none can be listed, that is an error.
 */
export async function listBackups(
  destinations: readonly Destination[],
  host: string,
  service: string,
  log: Logger,
): Promise<BackupRow[]> {
  const rows = new Map<string, BackupRow>();
  const listings = await Promise.allSettled(destinations.map((d) => d.list(host, service)));
  let failures = 0;
  listings.forEach((listing, i) => {
    if (listing.status === "rejected") {
      failures++;
      log.warn(`${service}: ${(listing.reason as Error).message}`);
      return;
    }
    for (const { id, size } of listing.value) {
      const row = rows.get(id);
      if (row) row.destinations.push(destinations[i].name);
      else {
        rows.set(id, {
          service,
          id,
          time: timeOfId(id),
          size,
          destinations: [destinations[i].name],
        });
      }
    }
  });
  if (failures > 0 && failures === destinations.length) {
    throw new DestinationError("every destination", `cannot list the backups of ${service}`);
  }
  return [...rows.values()].sort((a, b) => a.id < b.id ? 1 : -1);
}
