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
 * - `hosts` and `services` find what is stored without knowing the names in advance (several
 *   machines sharing a destination, a renamed service). Names starting with `.` or `@` are never
 *   hosts or services: hidden files and Packrat's own (`@packrat-probe`).
 * - `remove` of an archive that is already gone succeeds: deleting is idempotent.
 * - Errors are DestinationErrors naming the destination; `permanent` marks those that a retry
 *   cannot fix.
 *
 * @module
 */
import { isBackupId } from "../catalog/id.ts";

export interface StoredArchive {
  readonly id: string;
  readonly size: number;
}

export interface Destination {
  /** `local`, `s3` or `synology`: what users pass to `--from`. */
  readonly name: string;
  /**
   * The host directories (S3: prefixes) under the destination's path, sorted. A destination
   * that is reachable but holds nothing yet has none.
   */
  hosts(): Promise<string[]>;
  /**
   * The services stored under `host` that hold at least one complete archive (`<id>.packrat`),
   * sorted; a host that does not exist has none. Directories holding only partial uploads or
   * strangers are not services.
   */
  services(host: string): Promise<string[]>;
  list(host: string, service: string): Promise<StoredArchive[]>;
  /**
   * Stores the file at `sourcePath` (`size` bytes) as archive `id`. When `signal` aborts, the
   * upload stops and leaves nothing behind. `onProgress` hears how many bytes are stored so
   * far, now and then (a retry starts again from 0). With `replace`, an archive already stored
   * under `id` is replaced in one step, never left missing (repair puts a verified copy over a
   * damaged one); without it the local destination refuses to replace one (S3 and SFTP, whose
   * PUT and posix-rename replace, do not look).
   */
  put(
    host: string,
    service: string,
    id: string,
    sourcePath: string,
    size: number,
    signal?: AbortSignal,
    onProgress?: (sent: number) => void,
    options?: PutOptions,
  ): Promise<void>;
  /** The archive's bytes. */
  open(host: string, service: string, id: string): Promise<ReadableStream<Uint8Array>>;
  /** Deletes archive `id`; one that is already gone counts as deleted. */
  remove(host: string, service: string, id: string): Promise<void>;
  /**
   * Removes what interrupted uploads of this host and service left behind: hidden partial files
   * (`.<id>.packrat.partial-…`) and, on S3, multipart uploads never completed (key `…/<id>.packrat`):
   * those of archive ids in `ids` (a run that died while writing them) and any older than
   * `olderThan` (file mtime; `Initiated` for multipart uploads). Never touches complete archives,
   * other hosts or services, or names that are not Packrat's. Returns one line per thing removed,
   * for the log.
   */
  removePartials(host: string, service: string, options: PartialsToRemove): Promise<string[]>;
  close(): Promise<void>;
}

export interface PutOptions {
  /** Replace an archive already stored under the id (atomically). */
  readonly replace?: boolean;
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

/** Whether a directory name can be a host or service: `.…` and `@…` names never are. */
export function isLayoutName(name: string): boolean {
  return !name.startsWith(".") && !name.startsWith("@");
}

/**
 * The hidden name archive `id` is written under until it is complete (local and SFTP); the
 * random part keeps two writers of the same id apart.
 */
export function partialName(id: string): string {
  return `.${archiveName(id)}.partial-${crypto.randomUUID().slice(0, 8)}`;
}

/** The archive id a partial file was being written for, or undefined for any other name. */
export function idFromPartialName(name: string): string | undefined {
  const match = /^\.(.+)\.partial-[0-9a-f]+$/.exec(name);
  return match ? idFromName(match[1]) : undefined;
}

/** Which partial uploads `removePartials` removes. */
export interface PartialsToRemove {
  /** Archives a run that died was writing. */
  readonly ids: ReadonlySet<string>;
  /** Any partial upload last written (or started) before this. */
  readonly olderThan: Date;
}

/** Whether a partial upload of archive `id`, last written at `modified`, is to be removed. */
export function isAbandoned(
  id: string,
  modified: Date | undefined,
  { ids, olderThan }: PartialsToRemove,
): boolean {
  return ids.has(id) || (modified !== undefined && modified < olderThan);
}

/** Sorts archives oldest first; ids sort by time. */
export function byId(a: StoredArchive, b: StoredArchive): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
