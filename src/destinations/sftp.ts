/**
 * The `synology` destination: a NAS (or any SSH server) over SFTP.
 *
 * The host key must match `host_key` or a known_hosts entry; anything else is refused with
 * the offered fingerprint. With known_hosts, only the key types it holds for the NAS are
 * negotiated, so the server shows a key the file can vouch for. An archive is uploaded under a
 * hidden temp name with mode 0600, its size checked, then renamed into place, so a broken upload
 * never looks like a backup. Relative paths start at the login directory (on a Synology the SFTP
 * root hides `/volume1`). A key that cannot be read or decrypted is a permanent error.
 *
 * @module
 */
import { Readable } from "node:stream";
// @ts-types="./ssh2.d.ts"
import { Client, type SFTPWrapper, type Stats } from "ssh2";
import { readSecret } from "../config/secrets.ts";
import type { SynologyConfig } from "../config/types.ts";
import { DestinationError } from "../errors.ts";
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
  type StoredArchive,
} from "./destination.ts";
import {
  checkKnownHosts,
  fingerprint,
  hostKeyAlgorithms,
  type HostKeyVerdict,
  knownKeyTypes,
  noKnownTypeMessage,
  refusalMessage,
} from "./known_hosts.ts";

const CONNECT_TIMEOUT_MS = 20_000;

interface Session {
  client: Client;
  sftp: SFTPWrapper;
  /**
   * Rejects when the connection drops. ssh2 does not always fail requests that are in flight
   * when the server goes away (a fastPut then waits forever), so every operation races this.
   */
  lost: Promise<never>;
}

export class SftpDestination implements Destination {
  readonly name = "synology";
  readonly #config: SynologyConfig;
  #session?: Promise<Session>;

  constructor(config: SynologyConfig) {
    this.#config = config;
  }

  /** The destination's directory; relative paths start at the login directory. */
  #base(): string {
    const base = this.#config.path === "/" ? "" : this.#config.path.replace(/\/+$/, "");
    return base || ".";
  }

  #dir(host: string, service: string): string {
    return `${this.#base()}/${host}/${service}`;
  }

  #fail(action: string, error: unknown, permanent = false): DestinationError {
    if (error instanceof DestinationError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new DestinationError(this.name, `${action}: ${message}`, { cause: error, permanent });
  }

  /** One SSH connection per run, opened on first use and reused by every operation. */
  #connect(): Promise<Session> {
    this.#session ??= this.#open();
    // A failed connection is not cached: a retry opens a new one.
    this.#session.catch(() => this.#session = undefined);
    return this.#session;
  }

  async #open(): Promise<Session> {
    const { host, port, username, keyFile, keyPassphrase } = this.#config;
    let privateKey: Uint8Array;
    try {
      privateKey = await Deno.readFile(keyFile);
    } catch (error) {
      throw this.#fail(`cannot read key_file ${keyFile}`, error, true);
    }
    let passphrase: string | undefined;
    try {
      passphrase = keyPassphrase ? await readSecret(keyPassphrase) : undefined;
    } catch (error) {
      throw this.#fail(`cannot read the passphrase of key_file ${keyFile}`, error, true);
    }
    const knownHosts = await this.#knownHostsText();
    const serverHostKey = this.#config.hostKey
      ? undefined
      : hostKeyAlgorithms(knownHosts, host, port);
    const source = this.#config.hostKey ? "host_key" : this.#config.knownHosts!;
    let refusal: Extract<HostKeyVerdict, { ok: false }> | undefined;
    const client = new Client();
    return await new Promise<Session>((resolve, reject) => {
      const fail = (error: unknown) => {
        client.end();
        if (refusal) {
          reject(
            new DestinationError(this.name, refusalMessage(refusal, host, port, source), {
              permanent: true,
            }),
          );
        } else if (serverHostKey && /no matching host key format/i.test(String(error))) {
          const types = knownKeyTypes(knownHosts, host, port);
          reject(
            new DestinationError(this.name, noKnownTypeMessage(types, host, port, source), {
              cause: error,
              permanent: true,
            }),
          );
        } else {
          const auth = /authentication methods failed/i.test(String(error));
          reject(this.#fail(
            auth
              ? `${username}@${host}:${port} refused the key ${keyFile}`
              : `cannot connect to ${host}:${port}`,
            error,
            auth,
          ));
        }
      };
      // `on`, not `once`: a failed connection may still report its socket's reset afterwards, and
      // an error event nobody listens to would end the whole process.
      client.on("error", fail);
      client.once("ready", () => {
        // Nagle's algorithm costs SFTP a 20× slowdown on many small writes.
        (client as unknown as { _sock?: { setNoDelay?: (on: boolean) => void } })._sock
          ?.setNoDelay?.(true);
        const lost = new Promise<never>((_, lose) => {
          client.on("error", (error) => lose(error));
          client.once("close", () => lose(new Error(`the connection to ${host}:${port} was lost`)));
        });
        lost.catch(() => this.#session = undefined);
        client.sftp((error, sftp) => error ? fail(error) : resolve({ client, sftp, lost }));
      });
      try {
        client.connect({
          host,
          port,
          username,
          privateKey: Buffer.from(privateKey),
          passphrase,
          readyTimeout: CONNECT_TIMEOUT_MS,
          keepaliveInterval: 15_000,
          algorithms: serverHostKey ? { serverHostKey } : undefined,
          hostVerifier: (key: Uint8Array) => {
            const verdict = this.#verifyHostKey(key, knownHosts);
            if (!verdict.ok) refusal = verdict;
            return verdict.ok;
          },
        });
      } catch (error) {
        // ssh2 throws synchronously only for its configuration, above all a key it cannot parse
        // or decrypt: nothing a retry changes.
        client.end();
        const reason = error instanceof Error ? error.message : String(error);
        const message = /privateKey/.test(reason)
          ? this.#keyProblem(reason.replace(/^Cannot parse privateKey: /, ""))
          : `cannot connect to ${host}:${port}: ${reason}`;
        reject(new DestinationError(this.name, message, { cause: error, permanent: true }));
      }
    });
  }

  /** What ssh2's complaint about the private key means for the user; never quotes a secret. */
  #keyProblem(reason: string): string {
    const { keyFile, keyPassphrase } = this.#config;
    if (/no passphrase given/i.test(reason)) {
      return `key_file ${keyFile} is encrypted: set key_passphrase or key_passphrase_file`;
    }
    if (keyPassphrase && /passphrase|decrypt/i.test(reason)) {
      const source = keyPassphrase.kind === "file"
        ? `${keyPassphrase.key} (${keyPassphrase.path})`
        : keyPassphrase.key;
      return `cannot decrypt key_file ${keyFile} with ${source}: wrong passphrase`;
    }
    return `cannot use key_file ${keyFile}: ${reason}`;
  }

  async #knownHostsText(): Promise<string> {
    if (this.#config.hostKey || !this.#config.knownHosts) return "";
    try {
      return await Deno.readTextFile(this.#config.knownHosts);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "";
      throw this.#fail(`cannot read known_hosts ${this.#config.knownHosts}`, error, true);
    }
  }

  #verifyHostKey(key: Uint8Array, knownHosts: string): HostKeyVerdict {
    const { hostKey, host, port } = this.#config;
    if (hostKey) {
      const offered = fingerprint(key);
      return offered === hostKey ? { ok: true } : {
        ok: false,
        reason: "changed",
        fingerprint: offered,
      };
    }
    return checkKnownHosts(knownHosts, host, port, key);
  }

  /** The entries of `dir`; a directory that does not exist is empty. */
  async #readdir(dir: string): Promise<{ filename: string; attrs: Stats }[]> {
    const { sftp, lost } = await this.#connect();
    return await Promise.race([
      lost,
      new Promise<{ filename: string; attrs: Stats }[]>((resolve, reject) =>
        sftp.readdir(dir, (error, list) => {
          if (!error) resolve(list);
          else if (isNoSuchFile(error)) resolve([]);
          else reject(error);
        })
      ),
    ]).catch((error) => {
      throw this.#fail(`cannot list ${dir}`, error);
    });
  }

  /** The directories in `dir` that can be hosts or services, sorted. */
  async #subdirectories(dir: string): Promise<string[]> {
    return (await this.#readdir(dir))
      .filter(({ filename, attrs }) => attrs.isDirectory() && isLayoutName(filename))
      .map(({ filename }) => filename)
      .sort();
  }

  hosts(): Promise<string[]> {
    return this.#subdirectories(this.#base());
  }

  async services(host: string): Promise<string[]> {
    const candidates = await this.#subdirectories(`${this.#base()}/${host}`);
    // Requests share the one connection; ssh2 runs them side by side.
    const held = await Promise.all(
      candidates.map(async (service) =>
        (await this.#readdir(this.#dir(host, service))).some(({ filename, attrs }) =>
          attrs.isFile() && idFromName(filename) !== undefined
        )
      ),
    );
    return candidates.filter((_, i) => held[i]);
  }

  async list(host: string, service: string): Promise<StoredArchive[]> {
    const entries = await this.#readdir(this.#dir(host, service));
    const found: StoredArchive[] = [];
    for (const { filename, attrs } of entries) {
      const id = attrs.isFile() ? idFromName(filename) : undefined;
      if (id) found.push({ id, size: attrs.size });
    }
    return found.sort(byId);
  }

  async put(
    host: string,
    service: string,
    id: string,
    sourcePath: string,
    size: number,
    signal?: AbortSignal,
    onProgress?: (sent: number) => void,
  ): Promise<void> {
    const session = await this.#connect();
    // An abort that came while connecting: the listener below would never hear it.
    signal?.throwIfAborted();
    const { sftp, lost } = session;
    const dir = this.#dir(host, service);
    const final = `${dir}/${archiveName(id)}`;
    const temp = `${dir}/${partialName(id)}`;
    const abort = () => session.client.end();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      await Promise.race([
        lost,
        this.#store(sftp, dir, sourcePath, temp, final, size, onProgress),
      ]);
    } catch (error) {
      await Promise.race([lost, call<void>((cb) => sftp.unlink(temp, cb))]).catch(() => {});
      throw this.#fail(`cannot upload ${final}`, signal?.aborted ? signal.reason : error);
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  async #store(
    sftp: SFTPWrapper,
    dir: string,
    sourcePath: string,
    temp: string,
    final: string,
    size: number,
    onProgress?: (sent: number) => void,
  ): Promise<void> {
    await mkdirs(sftp, dir);
    const step = onProgress && ((sent: number) => onProgress(sent));
    await call<void>((cb) =>
      // `mode` is set on the open file before the first byte is written.
      sftp.fastPut(
        sourcePath,
        temp,
        { concurrency: 64, chunkSize: 32 * 1024, mode: 0o600, step },
        cb,
      )
    );
    const stored = await call<Stats>((cb) => sftp.stat(temp, cb));
    if (stored.size !== size) throw new Error(`stored ${stored.size} bytes, expected ${size}`);
    await call<void>((cb) => sftp.ext_openssh_rename(temp, final, cb)).catch(() =>
      call<void>((cb) => sftp.rename(temp, final, cb))
    );
  }

  async open(host: string, service: string, id: string): Promise<ReadableStream<Uint8Array>> {
    const { sftp, lost } = await this.#connect();
    const path = `${this.#dir(host, service)}/${archiveName(id)}`;
    await Promise.race([lost, call<Stats>((cb) => sftp.stat(path, cb))]).catch((error) => {
      throw this.#fail(`cannot open ${path}`, error);
    });
    const stream = sftp.createReadStream(path, { highWaterMark: 256 * 1024 });
    return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
  }

  async remove(host: string, service: string, id: string): Promise<void> {
    await this.#unlink(`${this.#dir(host, service)}/${archiveName(id)}`);
  }

  async removePartials(
    host: string,
    service: string,
    options: PartialsToRemove,
  ): Promise<string[]> {
    const dir = this.#dir(host, service);
    const removed: string[] = [];
    for (const { filename, attrs } of await this.#readdir(dir)) {
      const id = attrs.isFile() ? idFromPartialName(filename) : undefined;
      if (!id) continue;
      // SFTP times are whole seconds since the epoch.
      if (!isAbandoned(id, new Date(attrs.mtime * 1000), options)) continue;
      const path = `${dir}/${filename}`;
      if (await this.#unlink(path)) {
        removed.push(`removed ${path}, left by an interrupted upload of ${id}`);
      }
    }
    return removed;
  }

  /** Deletes a file; false when it was already gone. */
  async #unlink(path: string): Promise<boolean> {
    const { sftp, lost } = await this.#connect();
    return await Promise.race([lost, call<void>((cb) => sftp.unlink(path, cb))]).then(
      () => true,
      (error) => {
        if (isNoSuchFile(error)) return false;
        throw this.#fail(`cannot delete ${path}`, error);
      },
    );
  }

  async close(): Promise<void> {
    const session = await this.#session?.catch(() => undefined);
    session?.client.end();
    this.#session = undefined;
  }
}

/** Adapts an ssh2 callback API to a promise. */
function call<T>(start: (cb: (error: Error | null | undefined, value: T) => void) => void) {
  return new Promise<T>((resolve, reject) =>
    start((error, value) => error ? reject(error) : resolve(value))
  );
}

function isNoSuchFile(error: unknown): boolean {
  return (error as { code?: number })?.code === 2; // SSH_FX_NO_SUCH_FILE
}

/** `mkdir -p` over SFTP. */
async function mkdirs(sftp: SFTPWrapper, dir: string): Promise<void> {
  const parts = dir.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const path = parts.slice(0, i).join("/");
    if (path === "" || path === ".") continue;
    const exists = await call<Stats>((cb) => sftp.stat(path, cb)).then(
      (s) => s.isDirectory(),
      (error) => {
        if (isNoSuchFile(error)) return false;
        throw error;
      },
    );
    if (!exists) {
      await call<void>((cb) => sftp.mkdir(path, cb)).catch(async (error) => {
        // Lost a race with another writer: fine if it is a directory now.
        const now = await call<Stats>((cb) => sftp.stat(path, cb)).catch(() => undefined);
        if (!now?.isDirectory()) throw error;
      });
    }
  }
}
