/**
 * The archive header: magic, format version, KDF parameters and salt, key id, compression,
 * chunk size, and a per-archive salt for the payload key. See docs/FORMAT.md.
 *
 * @module
 */
import { ArchiveDamagedError, KeyError } from "../errors.ts";
import { fromBase64, toBase64 } from "./encoding.ts";
import { type KdfParams, type MasterKey, parseKdf } from "./key.ts";

export const MAGIC = new TextEncoder().encode("PACKRAT\0");
export const FORMAT_VERSION = 1;
export const DEFAULT_CHUNK_SIZE = 256 * 1024;
const MAX_BODY = 64 * 1024;
const CHECKSUM_SIZE = 32;
/** Fixed part before the JSON body: magic, version (u16), body length (u32). */
export const HEADER_PREFIX_SIZE = MAGIC.length + 2 + 4;

/** What the header says; `meta` is informational (service, host, id, created). */
export interface ArchiveHeader {
  readonly version: number;
  readonly kdf: KdfParams;
  readonly keyId: string;
  readonly compression: "zstd";
  readonly chunkSize: number;
  readonly payloadSalt: Uint8Array;
  readonly meta: Readonly<Record<string, string>>;
}

/** A new header for an archive encrypted with `master`. */
export function newHeader(master: MasterKey, meta: Record<string, string>): ArchiveHeader {
  return {
    version: FORMAT_VERSION,
    kdf: master.kdf,
    keyId: master.keyId,
    compression: "zstd",
    chunkSize: DEFAULT_CHUNK_SIZE,
    payloadSalt: crypto.getRandomValues(new Uint8Array(32)),
    meta,
  };
}

/** Serialises a header: prefix, JSON body, SHA-256 of both. */
export async function encodeHeader(header: ArchiveHeader): Promise<Uint8Array> {
  const body = new TextEncoder().encode(JSON.stringify({
    kdf: {
      algorithm: header.kdf.algorithm,
      memory_kib: header.kdf.memoryKiB,
      iterations: header.kdf.iterations,
      parallelism: header.kdf.parallelism,
      salt: toBase64(header.kdf.salt),
    },
    key_id: header.keyId,
    compression: header.compression,
    chunk_size: header.chunkSize,
    payload_salt: toBase64(header.payloadSalt),
    meta: header.meta,
  }));
  const out = new Uint8Array(HEADER_PREFIX_SIZE + body.length + CHECKSUM_SIZE);
  out.set(MAGIC);
  const view = new DataView(out.buffer);
  view.setUint16(MAGIC.length, header.version);
  view.setUint32(MAGIC.length + 2, body.length);
  out.set(body, HEADER_PREFIX_SIZE);
  const sum = await crypto.subtle.digest(
    "SHA-256",
    out.subarray(0, HEADER_PREFIX_SIZE + body.length),
  );
  out.set(new Uint8Array(sum), HEADER_PREFIX_SIZE + body.length);
  return out;
}

/**
 * How many bytes the header starting at `bytes` occupies, once at least the fixed prefix is
 * available; undefined while fewer bytes than that have been read.
 */
export function headerLength(bytes: Uint8Array, source: string): number | undefined {
  if (bytes.length < HEADER_PREFIX_SIZE) return undefined;
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new ArchiveDamagedError(`${source} is not a Packrat archive (no PACKRAT signature)`);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(MAGIC.length);
  if (version !== FORMAT_VERSION) {
    throw new ArchiveDamagedError(
      `${source} uses archive format version ${version}; this Packrat reads version ${FORMAT_VERSION} (upgrade Packrat, or the header is damaged)`,
    );
  }
  const bodyLength = view.getUint32(MAGIC.length + 2);
  if (bodyLength > MAX_BODY) {
    throw new ArchiveDamagedError(`${source}: archive header is damaged (impossible length)`);
  }
  return HEADER_PREFIX_SIZE + bodyLength + CHECKSUM_SIZE;
}

/** Parses and checks a complete header (exactly `headerLength` bytes). */
export async function decodeHeader(bytes: Uint8Array, source: string): Promise<ArchiveHeader> {
  const damaged = (why: string) =>
    new ArchiveDamagedError(`${source}: archive header is damaged (${why})`);
  const length = headerLength(bytes, source);
  if (length === undefined || bytes.length !== length) throw damaged("truncated");
  const bodyEnd = length - CHECKSUM_SIZE;
  const sum = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes.subarray(0, bodyEnd) as BufferSource),
  );
  if (sum.some((b, i) => b !== bytes[bodyEnd + i])) throw damaged("checksum mismatch");
  let doc;
  try {
    doc = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(HEADER_PREFIX_SIZE, bodyEnd)),
    );
  } catch {
    throw damaged("unreadable");
  }
  let salt: Uint8Array, payloadSalt: Uint8Array;
  try {
    salt = fromBase64(String(doc.kdf?.salt));
    payloadSalt = fromBase64(String(doc.payload_salt));
  } catch {
    throw damaged("bad base64");
  }
  const kdf = parseKdf(doc.kdf, salt);
  if (!kdf) throw damaged("unknown key derivation");
  if (doc.compression !== "zstd") throw damaged(`unknown compression ${doc.compression}`);
  const chunkSize = doc.chunk_size;
  if (!Number.isInteger(chunkSize) || chunkSize < 1024 || chunkSize > 64 * 1024 * 1024) {
    throw damaged("bad chunk size");
  }
  if (typeof doc.key_id !== "string" || payloadSalt.length !== 32) throw damaged("bad key id");
  return {
    version: FORMAT_VERSION,
    kdf,
    keyId: doc.key_id,
    compression: "zstd",
    chunkSize,
    payloadSalt,
    meta: typeof doc.meta === "object" && doc.meta ? doc.meta : {},
  };
}

/** Throws a clear error when the archive was written with another key. */
export function checkKey(header: ArchiveHeader, master: MasterKey, source: string): void {
  if (header.keyId !== master.keyId) {
    throw new KeyError(
      `${source} was encrypted with a different key (key id ${header.keyId}, yours is ${master.keyId}); use the key file it was made with, or \`packrat rekey\` with its password`,
    );
  }
}

/** Reads just the header from the start of an archive stream, then cancels the stream. */
export async function readHeader(
  stream: ReadableStream<Uint8Array>,
  source: string,
): Promise<ArchiveHeader> {
  const reader = stream.getReader();
  const pieces: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const bytes = concat(pieces, length);
      const needed = headerLength(bytes, source);
      if (needed !== undefined && length >= needed) {
        return await decodeHeader(bytes.subarray(0, needed), source);
      }
      const { value, done } = await reader.read();
      if (done) throw new ArchiveDamagedError(`${source} is truncated inside its header`);
      pieces.push(value);
      length += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function concat(pieces: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
