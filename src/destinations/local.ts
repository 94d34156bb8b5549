/**
 * The `local` destination: a plain directory, e.g. a USB disk or a mounted share.
 *
 * An archive is written under a hidden temp name, synced, checked, then renamed into place.
 * When the staging file is on the same filesystem it is hard-linked instead of copied. A full,
 * over-quota or read-only disk is reported as such and not retried.
 *
 * @module
 */
import { DestinationError } from "../errors.ts";
import { syncDirectory } from "../io/files.ts";
import {
  archiveName,
  byId,
  type Destination,
  idFromName,
  idFromPartialName,
  isAbandoned,
  isLayoutName,
  partialName,
  type PartialsToRemove,
  type PutOptions,
  type StoredArchive,
} from "./destination.ts";

/**
 * OS errors that stay until someone acts: a full disk, an exhausted quota, a read-only mount, a
 * file too large for the filesystem (FAT32 on a USB disk stops at 4 GiB).
 */
const LASTING_ERRORS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EFBIG"]);

export class LocalDestination implements Destination {
  readonly name = "local";
  constructor(readonly root: string) {}

  #dir(host: string, service: string): string {
    return `${this.root}/${host}/${service}`;
  }

  #fail(action: string, error: unknown): DestinationError {
    const reason = error instanceof Error ? error.message : String(error);
    // A missing, unwritable or full directory stays that way; anything else may be passing.
    const permanent = error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.PermissionDenied ||
      LASTING_ERRORS.has((error as { code?: string })?.code ?? "");
    return new DestinationError(this.name, `${action}: ${reason}`, { cause: error, permanent });
  }

  async hosts(): Promise<string[]> {
    try {
      return await subdirectories(this.root);
    } catch (error) {
      throw this.#fail(`cannot list ${this.root}`, error);
    }
  }

  async services(host: string): Promise<string[]> {
    const dir = `${this.root}/${host}`;
    try {
      const services: string[] = [];
      for (const service of await subdirectories(dir)) {
        if (await holdsArchive(`${dir}/${service}`)) services.push(service);
      }
      return services;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        await this.#checkRoot();
        return [];
      }
      throw this.#fail(`cannot list ${dir}`, error);
    }
  }

  async list(host: string, service: string): Promise<StoredArchive[]> {
    const dir = this.#dir(host, service);
    const found: StoredArchive[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) {
        const id = entry.isFile ? idFromName(entry.name) : undefined;
        if (!id) continue;
        // An archive deleted meanwhile (by retention elsewhere) is simply not listed.
        const info = await Deno.stat(`${dir}/${entry.name}`).catch((error) => {
          if (error instanceof Deno.errors.NotFound) return undefined;
          throw error;
        });
        if (info) found.push({ id, size: info.size });
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        await this.#checkRoot();
        return [];
      }
      throw this.#fail(`cannot list ${dir}`, error);
    }
    return found.sort(byId);
  }

  async #checkRoot(): Promise<void> {
    try {
      await Deno.stat(this.root);
    } catch (error) {
      throw this.#fail(`destination directory ${this.root} is not available`, error);
    }
  }

  async put(
    host: string,
    service: string,
    id: string,
    sourcePath: string,
    size: number,
    signal?: AbortSignal,
    onProgress?: (sent: number) => void,
    options: PutOptions = {},
  ): Promise<void> {
    signal?.throwIfAborted();
    await this.#checkRoot();
    const dir = this.#dir(host, service);
    const final = `${dir}/${archiveName(id)}`;
    const temp = `${dir}/${partialName(id)}`;
    try {
      await Deno.mkdir(dir, { recursive: true });
      try {
        await Deno.link(sourcePath, temp);
      } catch {
        await copyFile(sourcePath, temp, onProgress);
      }
      signal?.throwIfAborted();
      const stored = (await Deno.stat(temp)).size;
      if (stored !== size) throw new Error(`wrote ${stored} bytes, expected ${size}`);
      onProgress?.(stored);
      if (options.replace) {
        await Deno.rename(temp, final);
      } else {
        // link() fails if the name is taken, where rename() would replace an archive.
        await Deno.link(temp, final);
        await Deno.remove(temp);
      }
      await syncDirectory(dir);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      if (signal?.aborted) throw signal.reason;
      throw this.#fail(`cannot store ${final}`, error);
    }
  }

  async open(host: string, service: string, id: string): Promise<ReadableStream<Uint8Array>> {
    const path = `${this.#dir(host, service)}/${archiveName(id)}`;
    try {
      return (await Deno.open(path)).readable;
    } catch (error) {
      throw this.#fail(`cannot open ${path}`, error);
    }
  }

  async remove(host: string, service: string, id: string): Promise<void> {
    const path = `${this.#dir(host, service)}/${archiveName(id)}`;
    try {
      await Deno.remove(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw this.#fail(`cannot delete ${path}`, error);
    }
  }

  async removePartials(
    host: string,
    service: string,
    options: PartialsToRemove,
  ): Promise<string[]> {
    const dir = this.#dir(host, service);
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw this.#fail(`cannot list ${dir}`, error);
    }
    const removed: string[] = [];
    for (const name of names) {
      const id = idFromPartialName(name);
      if (!id) continue;
      const path = `${dir}/${name}`;
      try {
        const { mtime } = await Deno.lstat(path);
        if (!isAbandoned(id, mtime ?? undefined, options)) continue;
        await Deno.remove(path);
      } catch (error) {
        // Gone meanwhile: another run cleaned up or finished first.
        if (error instanceof Deno.errors.NotFound) continue;
        throw this.#fail(`cannot remove ${path}`, error);
      }
      removed.push(`removed ${path}, left by an interrupted upload of ${id}`);
    }
    return removed;
  }

  async close(): Promise<void> {}
}

/** The directories in `dir` that can be hosts or services, sorted. */
async function subdirectories(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && isLayoutName(entry.name)) names.push(entry.name);
  }
  return names.sort();
}

/** Whether `dir` holds a complete archive; one removed meanwhile (by retention) does not count. */
async function holdsArchive(dir: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && idFromName(entry.name)) return true;
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  return false;
}

/**
 * Copies with plain reads and writes: a stream pipe closes the target itself when a write fails,
 * and closing it again would replace the real error (e.g. ENOSPC) with "Bad resource ID".
 */
async function copyFile(
  from: string,
  to: string,
  onProgress?: (sent: number) => void,
): Promise<void> {
  using source = await Deno.open(from);
  using target = await Deno.open(to, { write: true, createNew: true, mode: 0o600 });
  const buffer = new Uint8Array(1024 * 1024);
  let sent = 0;
  for (;;) {
    const n = await source.read(buffer);
    if (n === null) break;
    for (let offset = 0; offset < n;) offset += await target.write(buffer.subarray(offset, n));
    sent += n;
    onProgress?.(sent);
  }
  await target.sync();
}
