/**
 * What every host stores on every destination: the view of several machines sharing a bucket or
 * NAS, found without knowing their names, and services stored under names the config no longer
 * has (a rename).
 *
 * @module
 */
import type { Destination } from "../destinations/destination.ts";
import { DestinationError, messageOf } from "../errors.ts";
import type { Logger } from "../ui/log.ts";
import type { BackupRow } from "./catalog.ts";
import { timeOfId } from "./id.ts";

export interface HostBackupRow extends BackupRow {
  readonly host: string;
}

/** Every backup of every host, and the destinations that could not be listed. */
export interface Fleet {
  /** By host, then service (both sorted), newest first. */
  readonly rows: HostBackupRow[];
  /** Destination name → why it could not be listed. */
  readonly unreachable: ReadonlyMap<string, string>;
}

/** One service of one host as the fleet view shows it. */
export interface ServiceSummary {
  readonly service: string;
  /** Undefined for a configured service of this host that has no backup yet. */
  readonly newest?: HostBackupRow;
  readonly backups: number;
  /** Whether the config names this service; false after a rename, or for another host's own. */
  readonly inConfig: boolean;
  /** Destinations holding at least one of its backups, in configuration order. */
  readonly destinations: string[];
}

export interface HostSummary {
  readonly host: string;
  /** Sorted by name. */
  readonly services: ServiceSummary[];
  /** Bytes of all its backups, each counted once however many destinations hold it. */
  readonly size: number;
}

/**
 * Lists every host, service and backup on all destinations. A destination that cannot be listed
 * is reported through `log` and in `unreachable`, and the others are still shown; if none can
 * be listed, that is an error.
 */
export async function listFleet(
  destinations: readonly Destination[],
  log: Logger,
): Promise<Fleet> {
  const rows = new Map<string, HostBackupRow>();
  const unreachable = new Map<string, string>();
  const listings = await Promise.allSettled(destinations.map(listEverything));
  listings.forEach((listing, i) => {
    const { name } = destinations[i];
    if (listing.status === "rejected") {
      // DestinationErrors name their destination; anything else is named here.
      const message = listing.reason instanceof DestinationError
        ? messageOf(listing.reason)
        : `${name}: ${messageOf(listing.reason)}`;
      unreachable.set(name, message);
      log.warn(`${message} (what ${name} holds is not shown)`);
      return;
    }
    for (const { host, service, archives } of listing.value) {
      for (const { id, size } of archives) {
        const key = `${host}/${service}/${id}`;
        const row = rows.get(key);
        if (row) row.destinations.push(name);
        else {
          rows.set(key, { host, service, id, time: timeOfId(id), size, destinations: [name] });
        }
      }
    }
  });
  if (unreachable.size > 0 && unreachable.size === destinations.length) {
    throw new DestinationError("every destination", "cannot list the hosts stored there");
  }
  return { rows: [...rows.values()].sort(byHostServiceNewest), unreachable };
}

/** What one destination holds: every host and service with an archive, and their archives. */
async function listEverything(destination: Destination) {
  const perHost = await Promise.all(
    (await destination.hosts()).map(async (host) =>
      await Promise.all(
        (await destination.services(host)).map(async (service) => ({
          host,
          service,
          archives: await destination.list(host, service),
        })),
      )
    ),
  );
  return perHost.flat();
}

function byHostServiceNewest(a: HostBackupRow, b: HostBackupRow): number {
  return compare(a.host, b.host) || compare(a.service, b.service) || compare(b.id, a.id);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One entry per host found in `rows` (sorted), each service with its newest backup. `thisHost`
 * is always there, with every configured service, even those without a backup yet; other hosts
 * show what they stored. A service the config does not name is marked as such.
 */
export function summarizeHosts(
  rows: readonly HostBackupRow[],
  thisHost: string,
  configured: readonly string[],
  destinationOrder: readonly string[],
): HostSummary[] {
  const byHost = new Map<string, Map<string, HostBackupRow[]>>([[thisHost, new Map()]]);
  for (const service of configured) byHost.get(thisHost)!.set(service, []);
  for (const row of rows) {
    if (!byHost.has(row.host)) byHost.set(row.host, new Map());
    const services = byHost.get(row.host)!;
    if (!services.has(row.service)) services.set(row.service, []);
    services.get(row.service)!.push(row);
  }
  const hosts = [...byHost.keys()].sort();
  return hosts.map((host) => {
    const services = [...byHost.get(host)!].sort(([a], [b]) => compare(a, b));
    return {
      host,
      services: services.map(([service, backups]) => {
        const held = new Set(backups.flatMap((b) => b.destinations));
        return {
          service,
          newest: backups.reduce<HostBackupRow | undefined>(
            (newest, b) => !newest || b.id > newest.id ? b : newest,
            undefined,
          ),
          backups: backups.length,
          inConfig: configured.includes(service),
          destinations: destinationOrder.filter((d) => held.has(d)),
        };
      }),
      size: services.reduce((sum, [, backups]) => sum + backups.reduce((s, b) => s + b.size, 0), 0),
    };
  });
}
