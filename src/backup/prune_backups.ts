/**
 * Applies a retention policy to one service on one destination.
 *
 * @module
 */
import type { RetentionPolicy } from "../config/types.ts";
import type { Destination } from "../destinations/destination.ts";
import { idsToDelete } from "../retention/policy.ts";
import type { Logger } from "../ui/log.ts";

/** Deletes (or with `dryRun` only names) what the policy does not keep; returns those ids. */
export async function pruneDestination(options: {
  destination: Destination;
  host: string;
  service: string;
  retention: RetentionPolicy;
  protect?: string;
  dryRun: boolean;
  log: Logger;
}): Promise<string[]> {
  const { destination, host, service, log } = options;
  if (options.retention.kind === "none") return [];
  const stored = await destination.list(host, service);
  const doomed = idsToDelete(stored.map((a) => a.id), options.retention, options.protect);
  for (const id of doomed) {
    if (options.dryRun) {
      log.info(`${service}: would delete ${id} from ${destination.name}`);
      continue;
    }
    await destination.remove(host, service, id);
    log.info(`${service}: deleted ${id} from ${destination.name} (retention)`);
  }
  return doomed;
}
