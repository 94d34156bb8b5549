/**
 * The one interface every destination implements (local directory, S3, SFTP).
 *
 * Layout: `<root>/<host>/<service>/<id>.packrat`. Host and service are separate path segments,
 * so listing `git` never sees `git-lfs`, and machines sharing a bucket never see each other's
 * archives. Contract:
 * - `put` makes an archive visible only once it is complete and its size checked; a failed
 *   `put` leaves no visible archive behind (temp name + rename, or multipart completion).
 * - `list` returns only complete archives of exactly that host and service, oldest first,
 *   and ignores anything whose name is not `<id>.packrat`.
 * - Errors are DestinationErrors naming the destination; `permanent` marks those that a retry
 *   cannot fix.
 *
 * @module
 */
import { isBackupId } from "../backup/id.ts";

export interface StoredArchive {
  readonly id: string;
  readonly size: number;
}

export interface Destination {
  /** `local`, `s3` or `synology`: what users pass to `--from`. */
  readonly name: string;
  list(host: string, service: string): Promise<StoredArchive[]>;
  /**
   * Stores the file at `sourcePath` (`size` bytes) as archive `id`. When `signal` aborts, the
   * upload stops and leaves nothing behind.
   */
  put(
    host: string,
    service: string,
    id: string,
    sourcePath: string,
    size: number,
    signal?: AbortSignal,
  ): Promise<void>;
  /** The archive's bytes. */
  open(host: string, service: string, id: string): Promise<ReadableStream<Uint8Array>>;
  remove(host: string, service: string, id: string): Promise<void>;
  close(): Promise<void>;
}

export const ARCHIVE_SUFFIX = ".packrat";

/** The file name of archive `id`. */
export function archiveName(id: string): string {
  return `${id}${ARCHIVE_SUFFIX}`;
}

/** The id in an archive file name, or undefined for anything else (temp files, strangers). */
export function idFromName(name: string): string | undefined {
  if (!name.endsWith(ARCHIVE_SUFFIX)) return undefined;
  const id = name.slice(0, -ARCHIVE_SUFFIX.length);
  return isBackupId(id) ? id : undefined;
}

/** Sorts archives oldest first; ids sort by time. */
export function byId(a: StoredArchive, b: StoredArchive): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
