/**
 * Builds the configured destinations, in a fixed order: local, s3, synology.
 *
 * @module
 */
import type { BackupConfig, Config } from "../config/types.ts";
import type { Destination } from "./destination.ts";
import { LocalDestination } from "./local.ts";
import { withRetries } from "./retry.ts";

/**
 * `onRetry` hears about transient failures that are being retried. The S3 and SFTP modules are
 * loaded only when configured: the AWS SDK alone adds ~35 MB to every run's memory.
 */
/** The names of the configured destinations, in the order `openDestinations` opens them. */
export function destinationNames(backup: BackupConfig): string[] {
  return (["local", "s3", "synology"] as const).filter((name) => backup[name] !== undefined);
}

export async function openDestinations(
  config: Config,
  onRetry?: (message: string) => void,
): Promise<Destination[]> {
  const { local, s3, synology } = config.backup;
  const destinations: Destination[] = [];
  if (local) destinations.push(new LocalDestination(local.path));
  if (s3) destinations.push(new (await import("./s3.ts")).S3Destination(s3));
  if (synology) destinations.push(new (await import("./sftp.ts")).SftpDestination(synology));
  return destinations.map((destination) => withRetries(destination, onRetry));
}

/** Closes every destination, ignoring errors (used on the way out). */
export async function closeDestinations(destinations: readonly Destination[]): Promise<void> {
  await Promise.allSettled(destinations.map((d) => d.close()));
}
