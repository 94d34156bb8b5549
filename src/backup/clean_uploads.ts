/**
 * Phase "clean": removes what interrupted uploads of this service left on the destinations —
 * hidden partial files and S3 multipart uploads of the archives a dead run was writing (noted
 * in the service's run record), and any older than a day. A destination that cannot be cleaned
 * now is tried again by the next run; it never fails this one.
 *
 * @module
 */
import type { Destination } from "../destinations/destination.ts";
import { messageOf } from "../errors.ts";
import type { StateLock } from "../state/lock.ts";
import type { Logger } from "../ui/log.ts";

/** Partial uploads older than this are removed whoever wrote them. */
export const STALE_UPLOAD_MS = 24 * 3600_000;

export async function cleanUploads(options: {
  destinations: readonly Destination[];
  host: string;
  service: string;
  lock: StateLock;
  log: Logger;
}): Promise<void> {
  const { host, service, lock, log } = options;
  const ids = new Set(lock.record.uploads);
  const olderThan = new Date(Date.now() - STALE_UPLOAD_MS);
  const results = await Promise.allSettled(
    options.destinations.map(async (d) =>
      await d.removePartials(host, service, { ids, olderThan })
    ),
  );
  let cleaned = true;
  results.forEach((result, i) => {
    const name = options.destinations[i].name;
    if (result.status === "rejected") {
      cleaned = false;
      log.warn(
        `${service}: cannot remove interrupted uploads on ${name} now (the next run tries again): ${
          messageOf(result.reason)
        }`,
      );
      return;
    }
    for (const line of result.value) log.warn(`${service}: ${name}: ${line}`);
  });
  if (cleaned) { for (const id of ids) lock.remove("uploads", id); }
}
