/**
 * STREAM: the payload encrypted in fixed-size chunks with AES-256-GCM.
 *
 * Chunk i uses the nonce `i` (11 bytes, big-endian) followed by a last-chunk flag byte (1 on the
 * final chunk, else 0), and the whole archive header as associated data. Reordering, dropping or
 * altering a chunk breaks authentication; a stream that ends before a flagged chunk is
 * truncated. A 16-byte end marker carrying the total length lets the reader tell truncation
 * from damage. The payload key is derived per archive with HKDF from the master key and the
 * header's payload salt, so counter nonces never repeat under one key. See docs/FORMAT.md.
 *
 * @module
 */
import { ArchiveDamagedError } from "../errors.ts";
import { ByteQueue } from "../io/byte_queue.ts";
import { settleLater } from "../io/settle.ts";
import {
  type ArchiveHeader,
  checkKey,
  decodeHeader,
  HEADER_PREFIX_SIZE,
  headerLength,
} from "./header.ts";
import type { MasterKey } from "./key.ts";

export const TAG_SIZE = 16;
export const END_MAGIC = new TextEncoder().encode("PACKEND\0");
export const END_SIZE = END_MAGIC.length + 8;
const IN_FLIGHT = 2;

/** Derives the archive's AES-256-GCM key from the master key and the header's payload salt. */
export async function payloadKey(master: MasterKey, header: ArchiveHeader): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey("raw", master.key as BufferSource, "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: header.payloadSalt as BufferSource,
      info: new TextEncoder().encode("packrat archive v1 payload"),
    },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function nonce(counter: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setBigUint64(3, BigInt(counter));
  n[11] = last ? 1 : 0;
  return n;
}

function endMarker(totalLength: number): Uint8Array {
  const out = new Uint8Array(END_SIZE);
  out.set(END_MAGIC);
  new DataView(out.buffer).setBigUint64(END_MAGIC.length, BigInt(totalLength));
  return out;
}

/**
 * Encrypts a payload written in pieces of any size and hands header, chunks and end marker to
 * `sink` in order. A few chunks are encrypted at once; WebCrypto runs them off the main thread.
 */
export class ChunkEncryptor {
  readonly #key: CryptoKey;
  readonly #ad: Uint8Array;
  readonly #sink: (bytes: Uint8Array) => Promise<void>;
  readonly #chunk: Uint8Array;
  #filled = 0;
  #counter = 0;
  #inFlight: Promise<ArrayBuffer>[] = [];
  #written = 0;

  private constructor(
    key: CryptoKey,
    header: Uint8Array,
    chunkSize: number,
    sink: (bytes: Uint8Array) => Promise<void>,
  ) {
    this.#key = key;
    this.#ad = header;
    this.#chunk = new Uint8Array(chunkSize);
    this.#sink = sink;
  }

  /** Starts an archive: writes `encodedHeader` to `sink` first. */
  static async start(
    master: MasterKey,
    header: ArchiveHeader,
    encodedHeader: Uint8Array,
    sink: (bytes: Uint8Array) => Promise<void>,
  ): Promise<ChunkEncryptor> {
    const encryptor = new ChunkEncryptor(
      await payloadKey(master, header),
      encodedHeader,
      header.chunkSize,
      sink,
    );
    await encryptor.#emit(encodedHeader);
    return encryptor;
  }

  /** Total bytes handed to the sink so far. */
  get bytesWritten(): number {
    return this.#written;
  }

  async write(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      if (this.#filled === this.#chunk.length) await this.#dispatch(false);
      const n = Math.min(data.length - offset, this.#chunk.length - this.#filled);
      this.#chunk.set(data.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
    }
  }

  /** Encrypts the final chunk, flushes everything and writes the end marker. */
  async close(): Promise<void> {
    await this.#dispatch(true);
    while (this.#inFlight.length > 0) await this.#emitOldest();
    await this.#emit(endMarker(this.#written + END_SIZE));
  }

  async #dispatch(last: boolean): Promise<void> {
    // encrypt() copies its input synchronously, so the chunk buffer can be refilled at once.
    this.#inFlight.push(settleLater(crypto.subtle.encrypt(
      {
        name: "AES-GCM",
        iv: nonce(this.#counter++, last) as BufferSource,
        additionalData: this.#ad as BufferSource,
      },
      this.#key,
      this.#chunk.subarray(0, this.#filled) as BufferSource,
    )));
    this.#filled = 0;
    if (this.#inFlight.length >= IN_FLIGHT) await this.#emitOldest();
  }

  async #emitOldest(): Promise<void> {
    await this.#emit(new Uint8Array(await this.#inFlight.shift()!));
  }

  async #emit(bytes: Uint8Array): Promise<void> {
    this.#written += bytes.length;
    await this.#sink(bytes);
  }
}

/**
 * A stream that checks and strips the header, decrypts and authenticates every chunk, and
 * passes the plaintext payload on. Errors: KeyError for another key, ArchiveDamagedError for
 * damage, tampering or truncation. `source` names the archive in messages.
 */
export function decryptStream(
  master: MasterKey,
  source: string,
  onHeader?: (header: ArchiveHeader) => void,
): TransformStream<Uint8Array, Uint8Array> {
  const queue = new ByteQueue();
  let header: Uint8Array | undefined;
  let key: CryptoKey | undefined;
  let chunkSize = 0;
  let counter = 0;
  let consumed = 0;
  const inFlight: { promise: Promise<ArrayBuffer>; index: number }[] = [];

  const decrypt = (ciphertext: Uint8Array, last: boolean) => {
    const index = counter++;
    consumed += ciphertext.length;
    const promise = crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: nonce(index, last) as BufferSource,
        additionalData: header as BufferSource,
      },
      key!,
      ciphertext as BufferSource,
    );
    inFlight.push({ index, promise: settleLater(promise) });
  };
  const emitOldest = async (out: TransformStreamDefaultController<Uint8Array>) => {
    const { promise, index } = inFlight.shift()!;
    try {
      out.enqueue(new Uint8Array(await promise));
    } catch {
      throw new ArchiveDamagedError(
        `${source} is damaged or was tampered with: chunk ${index} failed authentication`,
      );
    }
  };
  const readHeader = async () => {
    const length = headerLength(queue.peek(Math.min(queue.length, HEADER_PREFIX_SIZE)), source);
    if (length === undefined || queue.length < length) return;
    header = queue.take(length).slice();
    consumed = length;
    const decoded = await decodeHeader(header, source);
    checkKey(decoded, master, source);
    key = await payloadKey(master, decoded);
    chunkSize = decoded.chunkSize + TAG_SIZE;
    onHeader?.(decoded);
  };

  return new TransformStream({
    async transform(bytes, out) {
      queue.push(bytes);
      if (!header) await readHeader();
      if (!key) return;
      // A full chunk is known not to be the last one once more than an end marker follows it.
      while (queue.length > chunkSize + END_SIZE) {
        decrypt(queue.take(chunkSize), false);
        if (inFlight.length >= IN_FLIGHT) await emitOldest(out);
      }
    },
    async flush(out) {
      const truncated = () =>
        new ArchiveDamagedError(
          `${source} is truncated: it ends after ${
            consumed + queue.length
          } bytes without its end marker (an incomplete upload or copy)`,
        );
      if (!header) {
        if (queue.length >= HEADER_PREFIX_SIZE) await readHeader();
        if (!header) throw truncated();
      }
      while (inFlight.length > 0) await emitOldest(out);
      if (queue.length < TAG_SIZE + END_SIZE) throw truncated();
      const tail = queue.take(queue.length);
      const marker = tail.subarray(tail.length - END_SIZE);
      const declared = new DataView(marker.buffer, marker.byteOffset + END_MAGIC.length, 8)
        .getBigUint64(0);
      const lastChunk = tail.subarray(0, tail.length - END_SIZE);
      if (END_MAGIC.some((b, i) => marker[i] !== b)) {
        // No end marker: truncated, unless the final chunk is intact and only the marker is hit.
        decrypt(lastChunk, true);
        const intact = await inFlight.shift()!.promise.then(() => true, () => false);
        throw intact
          ? new ArchiveDamagedError(`${source} is damaged: its end marker was altered`)
          : truncated();
      }
      if (declared !== BigInt(consumed + tail.length)) {
        throw new ArchiveDamagedError(
          `${source} is damaged: its end marker gives the wrong length`,
        );
      }
      decrypt(lastChunk, true);
      await emitOldest(out);
    },
  });
}
