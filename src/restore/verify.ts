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

/** How a background verify reads: gently, and stoppably. */
export interface ReadOptions {
  /** Decompress at the lowest CPU priority. */
  readonly lowPriority?: boolean;
  /** Read no faster than this many bytes per second. */
  readonly maxBytesPerSecond?: number;
  /** Stops the read (its reason is thrown). */
  readonly signal?: AbortSignal;
}

/**
 * The stream, read no faster than `maxBytesPerSecond` and failing once `signal` aborts. The
 * pace is kept over the whole read: a slow start does not earn a burst later beyond one second.
 */
export function paced(
  stream: ReadableStream<Uint8Array>,
  { maxBytesPerSecond, signal }: ReadOptions,
): ReadableStream<Uint8Array> {
  if (!maxBytesPerSecond && !signal) return stream;
  let start = performance.now();
  let total = 0;
  return stream.pipeThrough(
    new TransformStream({
      async transform(chunk, controller) {
        signal?.throwIfAborted();
        if (maxBytesPerSecond) {
          total += chunk.length;
          let due = start + (total / maxBytesPerSecond) * 1000;
          const now = performance.now();
          // At most one second of credit from a slow stretch.
          if (now - due > 1000) {
            start += now - due - 1000;
            due = now - 1000;
          }
          if (due > now) await abortableSleep(due - now, signal);
        }
        controller.enqueue(chunk);
      },
    }),
  );
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/** What reading one copy of a backup found. */
export type CopyVerdict =
  | { readonly destination: string; readonly status: "intact"; entries: number; bytes: number }
  | { readonly destination: string; readonly status: "damaged" | "unreachable"; error: string };

/**
 * Verifies copies of `row` on `sources`, in order: every one with `all`, else until one is
 * intact (a damaged or unreachable copy before it is reported, and the next one read). Errors
 * that are not about one copy (the wrong key, say) stop at once.
 */
export async function verifyCopies(
  options: {
    sources: readonly Destination[];
    host: string;
    row: BackupRow;
    master: MasterKey;
    all: boolean;
    /** Bytes of the copy being read so far (of `row.size`). */
    onProgress?: (destination: string, read: number) => void;
  } & ReadOptions,
): Promise<CopyVerdict[]> {
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
  } & ReadOptions,
): Promise<CopyVerdict> {
  const { row } = options;
  const source = `${destination.name}:${row.id}`;
  try {
    const onProgress = options.onProgress;
    const stream = counted(
      paced(await destination.open(options.host, row.service, row.id), options),
      onProgress && ((read) => onProgress(destination.name, read)),
    );
    const guard = new PathGuard(source);
    const result = await unpackArchive(stream, options.master, source, {
      entry(entry) {
        guard.check(entry);
        return undefined;
      },
    }, { lowPriority: options.lowPriority });
    return {
      destination: destination.name,
      status: "intact",
      entries: result.entries,
      bytes: result.bytes,
    };
  } catch (error) {
    return verdictOfError(destination.name, error);
  }
}

/**
 * What a failed read of a copy says about it: damaged, or not readable from its destination.
 * Errors that are not about one copy (the wrong key, an interrupt) are thrown again.
 */
export function verdictOfError(destination: string, error: unknown): CopyVerdict {
  if (error instanceof ArchiveDamagedError) {
    return { destination, status: "damaged", error: messageOf(error) };
  }
  // The wrong key, say, is wrong for every copy.
  if (error instanceof PackratError && !(error instanceof DestinationError)) throw error;
  // A destination that cannot be reached, or that dropped the connection while being read.
  return { destination, status: "unreachable", error: messageOf(error) };
}
