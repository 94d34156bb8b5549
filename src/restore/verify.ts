/**
 * Verify: download a backup and fully decrypt, decompress and walk it without writing files —
 * a restore test. Finding damage is its job, so a damaged copy is never hidden behind a good
 * one: each copy read gets its own verdict.
 *
 * @module
 */
import { unpackArchive } from "../archive/unpack.ts";
import { counted } from "../io/files.ts";
import type { BackupRow } from "../catalog/catalog.ts";
import type { MasterKey } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { ArchiveDamagedError, DestinationError, messageOf, PackratError } from "../errors.ts";
import { PathGuard } from "./extract.ts";

/** What reading one copy of a backup found. */
export type CopyVerdict =
  | { readonly destination: string; readonly status: "intact"; entries: number; bytes: number }
  | { readonly destination: string; readonly status: "damaged" | "unreachable"; error: string };

/**
 * Verifies copies of `row` on `sources`, in order: every one with `all`, else until one is
 * intact (a damaged or unreachable copy before it is reported, and the next one read). Errors
 * that are not about one copy (the wrong key, say) stop at once.
 */
export async function verifyCopies(options: {
  sources: readonly Destination[];
  host: string;
  row: BackupRow;
  master: MasterKey;
  all: boolean;
  /** Bytes of the copy being read so far (of `row.size`). */
  onProgress?: (destination: string, read: number) => void;
}): Promise<CopyVerdict[]> {
  const verdicts: CopyVerdict[] = [];
  for (const destination of options.sources) {
    const verdict = await verifyCopy(destination, options);
    verdicts.push(verdict);
    if (verdict.status === "intact" && !options.all) break;
  }
  return verdicts;
}

async function verifyCopy(
  destination: Destination,
  options: {
    host: string;
    row: BackupRow;
    master: MasterKey;
    onProgress?: (destination: string, read: number) => void;
  },
): Promise<CopyVerdict> {
  const { row } = options;
  const source = `${destination.name}:${row.id}`;
  try {
    const onProgress = options.onProgress;
    const stream = counted(
      await destination.open(options.host, row.service, row.id),
      onProgress && ((read) => onProgress(destination.name, read)),
    );
    const guard = new PathGuard(source);
    const result = await unpackArchive(stream, options.master, source, {
      entry(entry) {
        guard.check(entry);
        return undefined;
      },
    });
    return {
      destination: destination.name,
      status: "intact",
      entries: result.entries,
      bytes: result.bytes,
    };
  } catch (error) {
    if (error instanceof ArchiveDamagedError) {
      return { destination: destination.name, status: "damaged", error: messageOf(error) };
    }
    // The wrong key, say, is wrong for every copy.
    if (error instanceof PackratError && !(error instanceof DestinationError)) throw error;
    // A destination that cannot be reached, or that dropped the connection while being read.
    return { destination: destination.name, status: "unreachable", error: messageOf(error) };
  }
}
