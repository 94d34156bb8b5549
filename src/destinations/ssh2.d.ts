/**
 * The part of npm:ssh2's API Packrat uses. Hand-written: @types/ssh2 drags in @types/node 18,
 * which hides the zstd functions of Deno's own node:zlib types.
 */
import type { Readable } from "node:stream";

export interface Stats {
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  isFile(): boolean;
  isDirectory(): boolean;
}

type Callback<T = void> = (error: Error | null | undefined, value: T) => void;

export interface SFTPWrapper {
  readdir(path: string, cb: Callback<{ filename: string; attrs: Stats }[]>): void;
  stat(path: string, cb: Callback<Stats>): void;
  mkdir(path: string, cb: Callback): void;
  unlink(path: string, cb: Callback): void;
  rename(from: string, to: string, cb: Callback): void;
  ext_openssh_rename(from: string, to: string, cb: Callback): void;
  fastPut(
    localPath: string,
    remotePath: string,
    options: {
      concurrency?: number;
      chunkSize?: number;
      mode?: number;
      /** Called as chunks are acknowledged: bytes transferred so far, this chunk, the total. */
      step?: (transferred: number, chunk: number, total: number) => void;
    },
    cb: Callback,
  ): void;
  createReadStream(path: string, options?: { highWaterMark?: number }): Readable;
}

export interface ConnectConfig {
  host: string;
  port: number;
  username: string;
  privateKey: Uint8Array;
  passphrase?: string;
  readyTimeout?: number;
  keepaliveInterval?: number;
  hostVerifier?: (key: Uint8Array) => boolean;
  algorithms?: { serverHostKey?: string[] };
}

export class Client {
  connect(config: ConnectConfig): this;
  sftp(cb: Callback<SFTPWrapper>): void;
  end(): this;
  once(event: "ready", listener: () => void): this;
  once(event: "error", listener: (error: Error) => void): this;
  once(event: "close", listener: () => void): this;
  on(event: "error", listener: (error: Error) => void): this;
}
