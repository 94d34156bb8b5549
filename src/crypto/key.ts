/**
 * The master key: derived from a password with Argon2id, stored in a 0600 key file.
 *
 * The key file holds the key itself, the salt and KDF parameters it was derived with, and a key
 * id (a hash of the key, never the key). Every archive header repeats the salt, parameters and
 * key id, so `packrat rekey` can re-derive a lost key file from the password alone.
 *
 * @module
 */
import { argon2id } from "hash-wasm";
import { KeyError } from "../errors.ts";
import { fromBase64, toBase64, toHex } from "./encoding.ts";

/** Argon2id parameters; the defaults use 64 MiB of memory and 3 passes. */
export interface KdfParams {
  readonly algorithm: "argon2id";
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
  readonly salt: Uint8Array;
}

export interface MasterKey {
  readonly key: Uint8Array;
  readonly keyId: string;
  readonly kdf: KdfParams;
}

export const DEFAULT_KDF = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 } as const;

const KEY_FILE_FORMAT = "packrat-key-v1";

/** Derives the 256-bit master key from a password. */
export async function deriveKey(password: string, kdf: KdfParams): Promise<MasterKey> {
  if (password.length === 0) throw new KeyError("the password is empty");
  const key = await argon2id({
    password,
    salt: kdf.salt,
    memorySize: kdf.memoryKiB,
    iterations: kdf.iterations,
    parallelism: kdf.parallelism,
    hashLength: 32,
    outputType: "binary",
  });
  return { key, keyId: await keyIdOf(key), kdf };
}

/** A fresh key for `packrat init`: default parameters, random 16-byte salt. */
export function newKey(password: string): Promise<MasterKey> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return deriveKey(password, { algorithm: "argon2id", ...DEFAULT_KDF, salt });
}

/** Identifies a key without revealing it: the first 16 bytes of SHA-256 over a label and the key. */
export async function keyIdOf(key: Uint8Array): Promise<string> {
  const label = new TextEncoder().encode("packrat key id v1\0");
  const data = new Uint8Array(label.length + key.length);
  data.set(label);
  data.set(key, label.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return toHex(digest.subarray(0, 16));
}

export function encodeKeyFile(master: MasterKey): string {
  return JSON.stringify(
    {
      format: KEY_FILE_FORMAT,
      key_id: master.keyId,
      key: toBase64(master.key),
      kdf: {
        algorithm: master.kdf.algorithm,
        memory_kib: master.kdf.memoryKiB,
        iterations: master.kdf.iterations,
        parallelism: master.kdf.parallelism,
        salt: toBase64(master.kdf.salt),
      },
    },
    null,
    2,
  ) + "\n";
}

/** Parses and checks a key file's text; `path` is only used in messages. */
export async function decodeKeyFile(text: string, path: string): Promise<MasterKey> {
  const damaged = (why: string) =>
    new KeyError(
      `key file ${path} is damaged (${why}); regenerate it with \`packrat rekey\``,
    );
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    throw damaged("not JSON");
  }
  if (doc?.format !== KEY_FILE_FORMAT) throw damaged("unknown format");
  let key: Uint8Array, salt: Uint8Array;
  try {
    key = fromBase64(String(doc.key));
    salt = fromBase64(String(doc.kdf?.salt));
  } catch {
    throw damaged("bad base64");
  }
  if (key.length !== 32) throw damaged("key is not 32 bytes");
  const kdf = parseKdf(doc.kdf, salt);
  if (!kdf) throw damaged("bad KDF parameters");
  const keyId = await keyIdOf(key);
  if (keyId !== doc.key_id) throw damaged("key does not match its key id");
  return { key, keyId, kdf };
}

/** Validates KDF parameters from a key file or an archive header. */
export function parseKdf(
  raw: Record<string, unknown> | undefined,
  salt: Uint8Array,
): KdfParams | undefined {
  if (!raw || raw.algorithm !== "argon2id") return undefined;
  const { memory_kib: m, iterations: t, parallelism: p } = raw;
  const ok = (n: unknown, min: number, max: number) =>
    typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;
  if (!ok(m, 8, 4 * 1024 * 1024) || !ok(t, 1, 100) || !ok(p, 1, 255) || salt.length < 8) {
    return undefined;
  }
  return {
    algorithm: "argon2id",
    memoryKiB: m as number,
    iterations: t as number,
    parallelism: p as number,
    salt,
  };
}

/**
 * Reads the key file. Refuses one that group or others can read: a leaked key file decrypts
 * every backup.
 */
export async function readKeyFile(path: string): Promise<MasterKey> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new KeyError(
        `key file ${path} does not exist; create it with \`packrat init\` (or \`packrat rekey\` to recover it from your password)`,
      );
    }
    throw new KeyError(`cannot read key file ${path}: ${(error as Error).message}`);
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new KeyError(
      `key file ${path} is readable by group or others (mode ${
        (info.mode & 0o777).toString(8)
      }); run \`chmod 600 ${path}\``,
    );
  }
  return decodeKeyFile(await Deno.readTextFile(path), path);
}

/**
 * Writes the key file with mode 0600, atomically (temp file + rename).
 * Refuses to replace an existing file unless `force`.
 */
export async function writeKeyFile(path: string, master: MasterKey, force: boolean): Promise<void> {
  if (!force) {
    try {
      await Deno.lstat(path);
      throw new KeyError(
        `key file ${path} already exists; it may be the only way to decrypt your backups. Use --force to replace it`,
      );
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    {
      await using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
      await file.write(new TextEncoder().encode(encodeKeyFile(master)));
      await file.sync();
    }
    await Deno.chmod(temp, 0o600);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
