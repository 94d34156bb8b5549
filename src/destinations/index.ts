/**
 * Builds the configured destinations, in a fixed order: local, s3, synology.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { ConfigError } from "../errors.ts";
import type { Destination } from "./destination.ts";
import { LocalDestination } from "./local.ts";

export function openDestinations(config: Config): Destination[] {
  const destinations: Destination[] = [];
  if (config.backup.local) destinations.push(new LocalDestination(config.backup.local.path));
  for (const name of ["s3", "synology"] as const) {
    if (config.backup[name]) {
      throw new ConfigError(
        `${config.file}: backup.${name} is not supported by this version of Packrat yet; use backup.local`,
      );
    }
  }
  return destinations;
}

/** Closes every destination, ignoring errors (used on the way out). */
export async function closeDestinations(destinations: readonly Destination[]): Promise<void> {
  await Promise.allSettled(destinations.map((d) => d.close()));
}
