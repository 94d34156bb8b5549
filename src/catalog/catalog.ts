/**
 * What the destinations hold: one row per backup id, with every destination that has it.
 *
 * @module
 */
import type { Destination } from "../destinations/destination.ts";
import { DestinationError, messageOf } from "../errors.ts";
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

/** A service's backups, and the destinations that could not be listed (they may hold more). */
export interface Catalog {
  /** Newest first. */
  readonly rows: BackupRow[];
  /** Destination name → why it could not be listed. */
  readonly unreachable: ReadonlyMap<string, string>;
}

/**
 * Lists a service's backups on all destinations. A destination that cannot be listed is
 * reported through `log` and in `unreachable`; if none can be listed, that is an error.
 */
export async function listBackups(
  destinations: readonly Destination[],
  host: string,
  service: string,
  log: Logger,
): Promise<Catalog> {
  const rows = new Map<string, BackupRow>();
  const listings = await Promise.allSettled(destinations.map((d) => d.list(host, service)));
  const unreachable = new Map<string, string>();
  listings.forEach((listing, i) => {
    if (listing.status === "rejected") {
      unreachable.set(destinations[i].name, messageOf(listing.reason));
      log.warn(`${service}: ${messageOf(listing.reason)}`);
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
  if (unreachable.size > 0 && unreachable.size === destinations.length) {
    throw new DestinationError("every destination", `cannot list the backups of ${service}`);
  }
  return { rows: [...rows.values()].sort((a, b) => a.id < b.id ? 1 : -1), unreachable };
}
