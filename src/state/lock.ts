/**
 * Locks in the state directory, and the record of what their holder must undo if it dies.
 *
 * `locks/<key>.lock` is held with an exclusive `flock`: the kernel releases it when its holder
 * exits, however it exits (`kill -9`, OOM, power loss), so a lock left by a dead process is
 * simply free, and of several processes that try for it at once exactly one gets it. The file
 * itself stays (removing it would let two processes lock two different files of one name); it
 * names its holder, for the "busy" message.
 *
 * `locks/<key>.json` is the holder's run record: the containers it stopped, the staging files and
 * directories it made, the archives it was uploading. It is written (atomically, and synced)
 * before each such step and cleared after, so whoever takes the lock next finds exactly what a
 * dead holder left behind (see recover.ts).
 *
 * Keys: a service's name for everything that changes that service (backup, restore in place,
 * prune, the daemon); `run-…` for a run that changes no service but leaves files behind (a
 * restore elsewhere).
 *
 * @module
 */
import { LockedError, messageOf, PackratError } from "../errors.ts";
import { adoptStateOwner } from "./directory.ts";

/** Who holds a lock. */
export interface Holder {
  readonly pid: number;
  /** What it is doing: "backup", "restore", "prune", … */
  readonly operation: string;
  readonly since: string;
}

/** What a run must undo if it dies. */
export interface RunRecord {
  /** Containers it stopped and has not started again. */
  containers: string[];
  /** Staging files and directories it made (they may hold decrypted data). */
  paths: string[];
  /** Ids of archives it was uploading: partial files or multipart uploads may be left. */
  uploads: string[];
  /** Who wrote the record. */
  holder?: Holder;
}

export type RecordKind = "containers" | "paths" | "uploads";

/** How the phases of a run note what they leave behind, before they do it. */
export interface Journal {
  add(kind: RecordKind, value: string): void;
  remove(kind: RecordKind, value: string): void;
}

/** A journal that keeps nothing, for code paths that run without a lock (tests, tools). */
export const NO_JOURNAL: Journal = { add: () => {}, remove: () => {} };

const EPHEMERAL = "run-";

/** A held lock and its run record. Release it in a `finally`. */
export class StateLock implements Journal {
  readonly key: string;
  readonly #dir: string;
  readonly #file: Deno.FsFile;
  readonly #holder: Holder;
  #record: RunRecord;
  #released = false;

  private constructor(dir: string, key: string, file: Deno.FsFile, holder: Holder) {
    this.#dir = dir;
    this.key = key;
    this.#file = file;
    this.#holder = holder;
    this.#record = readRecord(this.#recordPath) ?? emptyRecord();
  }

  /**
   * Takes the lock `key` in `stateDir`, or returns undefined when a live process holds it.
   * Throws only when the state directory cannot be used.
   */
  static try(stateDir: string, key: string, operation: string): StateLock | undefined {
    const dir = locksDir(stateDir);
    const path = `${dir}/${key}.lock`;
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o644 });
    } catch (error) {
      if (!(error instanceof Deno.errors.PermissionDenied)) throw unusable(stateDir, error);
      // Made by another user (root, or the service's user): a read-only descriptor locks too.
      file = Deno.openSync(path, { read: true });
    }
    if (!file.tryLockSync(true)) {
      file.close();
      return undefined;
    }
    // An ephemeral lock file may have been removed by its last holder after we opened it.
    if (key.startsWith(EPHEMERAL) && !sameFile(file, path)) {
      file.close();
      return undefined;
    }
    const holder = { pid: Deno.pid, operation, since: new Date().toISOString() };
    writeHolder(file, holder);
    return new StateLock(dir, key, file, holder);
  }

  /** Takes the lock of `service`, or throws LockedError naming the holder. */
  static service(stateDir: string, service: string, operation: string): StateLock {
    const lock = StateLock.try(stateDir, service, operation);
    if (lock) return lock;
    const holder = readHolder(`${locksDir(stateDir)}/${service}.lock`);
    const who = holder
      ? `a ${holder.operation} (pid ${holder.pid}, since ${holder.since})`
      : "another Packrat process";
    throw new LockedError(
      `${service} is busy: ${who} holds its lock; try again when it has finished`,
    );
  }

  /** A lock of its own for a run that changes no service but leaves files behind. */
  static run(stateDir: string, operation: string): StateLock {
    const key = `${EPHEMERAL}${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    const lock = StateLock.try(stateDir, key, operation);
    if (!lock) throw new PackratError(`cannot lock ${key} in ${stateDir}`);
    return lock;
  }

  /** The keys that have a run record: where a dead run may have left something. */
  static recordedKeys(stateDir: string): string[] {
    const keys: string[] = [];
    try {
      for (const entry of Deno.readDirSync(locksDir(stateDir, false))) {
        if (entry.isFile && entry.name.endsWith(".json")) keys.push(entry.name.slice(0, -5));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw unusable(stateDir, error);
    }
    return keys.sort();
  }

  /** The run record: what a dead holder left (right after locking), then this run's too. */
  get record(): Readonly<RunRecord> {
    return this.#record;
  }

  add(kind: RecordKind, value: string): void {
    if (this.#record[kind].includes(value)) return;
    this.#record[kind].push(value);
    this.#save();
  }

  remove(kind: RecordKind, value: string): void {
    const index = this.#record[kind].indexOf(value);
    if (index < 0) return;
    this.#record[kind].splice(index, 1);
    this.#save();
  }

  /** Saves what is left to undo, and unlocks. Never throws. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      if (this.key.startsWith(EPHEMERAL) && isEmpty(this.#record)) {
        Deno.removeSync(`${this.#dir}/${this.key}.lock`);
      }
    } catch {
      // A lock file left behind is harmless: the next sweep removes it.
    }
    try {
      this.#file.unlockSync();
    } finally {
      this.#file.close();
    }
  }

  get #recordPath(): string {
    return `${this.#dir}/${this.key}.json`;
  }

  /** Writes the record atomically and durably, or removes it once there is nothing to undo. */
  #save(): void {
    const path = this.#recordPath;
    try {
      if (isEmpty(this.#record)) {
        Deno.removeSync(path);
        return;
      }
      const temp = `${path}.tmp-${Deno.pid}`;
      const text = JSON.stringify({ ...this.#record, holder: this.#holder }, null, 2);
      const file = Deno.openSync(temp, { write: true, create: true, truncate: true, mode: 0o644 });
      try {
        writeAllSync(file, new TextEncoder().encode(`${text}\n`));
        file.syncSync();
      } finally {
        file.close();
      }
      Deno.renameSync(temp, path);
      syncDir(this.#dir);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && isEmpty(this.#record)) return;
      throw new PackratError(
        `cannot write the run record ${path}: ${
          messageOf(error)
        } (is the state directory writable?)`,
      );
    }
  }
}

function emptyRecord(): RunRecord {
  return { containers: [], paths: [], uploads: [] };
}

function isEmpty(record: RunRecord): boolean {
  return record.containers.length + record.paths.length + record.uploads.length === 0;
}

/** `<stateDir>/locks`, created (by default) with the state directory's owner. */
function locksDir(stateDir: string, create = true): string {
  const dir = `${stateDir}/locks`;
  if (!create) return dir;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
    adoptStateOwner(stateDir, dir);
  } catch (error) {
    throw unusable(stateDir, error);
  }
  return dir;
}

function unusable(stateDir: string, error: unknown): PackratError {
  return new PackratError(
    `cannot use the state directory ${stateDir}: ${
      messageOf(error)
    }; set backup.state_dir to a directory this user can write`,
  );
}

function readRecord(path: string): RunRecord | undefined {
  let parsed: Partial<RunRecord>;
  try {
    parsed = JSON.parse(Deno.readTextFileSync(path));
  } catch {
    // Missing, or cut short by a crash before its rename: nothing recorded.
    return undefined;
  }
  const list = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  return {
    containers: list(parsed.containers),
    paths: list(parsed.paths),
    uploads: list(parsed.uploads),
    holder: isHolder(parsed.holder) ? parsed.holder : undefined,
  };
}

function readHolder(path: string): Holder | undefined {
  try {
    const holder = JSON.parse(Deno.readTextFileSync(path));
    return isHolder(holder) ? holder : undefined;
  } catch {
    return undefined;
  }
}

function isHolder(value: unknown): value is Holder {
  const h = value as Holder | undefined;
  return typeof h?.pid === "number" && typeof h.operation === "string" &&
    typeof h.since === "string";
}

/** Puts the holder's name in its lock file; a read-only descriptor keeps the old one. */
function writeHolder(file: Deno.FsFile, holder: Holder): void {
  try {
    file.truncateSync(0);
    file.seekSync(0, Deno.SeekMode.Start);
    writeAllSync(file, new TextEncoder().encode(`${JSON.stringify(holder)}\n`));
  } catch {
    // Only the "busy" message of another process would name the previous holder.
  }
}

function sameFile(file: Deno.FsFile, path: string): boolean {
  try {
    return file.statSync().ino === Deno.statSync(path).ino;
  } catch {
    return false;
  }
}

function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
}

function syncDir(dir: string): void {
  try {
    using handle = Deno.openSync(dir);
    handle.syncSync();
  } catch {
    // Some filesystems cannot sync a directory; the rename happened all the same.
  }
}
