import assert from "node:assert/strict";
import {
  encodeHeader,
  headerLength as headerLengthOf,
  newHeader,
} from "../../src/crypto/header.ts";
import { deriveKey, type MasterKey } from "../../src/crypto/key.ts";
import { ChunkEncryptor, decryptStream } from "../../src/crypto/stream.ts";
import { ArchiveDamagedError, KeyError } from "../../src/errors.ts";

// Cheap KDF parameters: these tests are about the stream, not about Argon2id's cost.
const kdf = (salt: number) => ({
  algorithm: "argon2id" as const,
  memoryKiB: 64,
  iterations: 1,
  parallelism: 1,
  salt: new Uint8Array(16).fill(salt),
});
const master = await deriveKey("one", kdf(1));
const other = await deriveKey("two", kdf(2));

async function encrypt(payload: Uint8Array, chunkSize = 1024): Promise<Uint8Array> {
  const header = { ...newHeader(master, { service: "t" }), chunkSize };
  const parts: Uint8Array[] = [];
  const encryptor = await ChunkEncryptor.start(master, header, await encodeHeader(header), (b) => {
    parts.push(b.slice());
    return Promise.resolve();
  });
  // Uneven pieces exercise chunk boundaries.
  for (let i = 0; i < payload.length; i += 700) await encryptor.write(payload.subarray(i, i + 700));
  await encryptor.close();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  assert.equal(encryptor.bytesWritten, out.length);
  return out;
}

async function decrypt(archive: Uint8Array, key: MasterKey = master): Promise<Uint8Array> {
  const pieces = [archive.subarray(0, 5), archive.subarray(5, 3000), archive.subarray(3000)];
  const input = ReadableStream.from(pieces.filter((p) => p.length > 0));
  const chunks: Uint8Array[] = [];
  for await (const c of input.pipeThrough(decryptStream(key, "test.packrat"))) chunks.push(c);
  const out = new Uint8Array(chunks.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const c of chunks) (out.set(c, o), o += c.length);
  return out;
}

const payload = new Uint8Array(10_000).map((_, i) => (i * 31) & 255);

Deno.test("round trip across chunk sizes, including empty and exact multiples", async () => {
  for (const size of [0, 1, 1023, 1024, 2048, 10_000]) {
    const data = payload.subarray(0, size);
    assert.deepEqual(await decrypt(await encrypt(data)), data, `size ${size}`);
  }
});

Deno.test("every single flipped byte is detected as damage, never as success", async () => {
  const archive = await encrypt(payload);
  for (let position = 0; position < archive.length; position += 97) {
    const bad = archive.slice();
    bad[position] ^= 0x01;
    await assert.rejects(decrypt(bad), (e) => {
      assert.ok(e instanceof ArchiveDamagedError || e instanceof KeyError, `at ${position}: ${e}`);
      assert.doesNotMatch((e as Error).message, /truncated/, `at ${position}`);
      return true;
    });
  }
});

Deno.test("truncation anywhere is reported as truncation", async () => {
  const archive = await encrypt(payload);
  for (
    const length of [
      3,
      40,
      200,
      1500,
      archive.length - 1024,
      archive.length - 17,
      archive.length - 1,
    ]
  ) {
    await assert.rejects(decrypt(archive.subarray(0, length)), /truncated/, `length ${length}`);
  }
});

Deno.test("dropping or swapping whole chunks fails authentication", async () => {
  const archive = await encrypt(payload);
  const headerLength = headerLengthOf(archive, "test")!;
  const chunk = 1024 + 16;
  const first = archive.subarray(headerLength, headerLength + chunk);
  const second = archive.subarray(headerLength + chunk, headerLength + 2 * chunk);
  const swapped = archive.slice();
  swapped.set(second, headerLength);
  swapped.set(first, headerLength + chunk);
  await assert.rejects(decrypt(swapped), /failed authentication/);
});

Deno.test("the wrong key is reported as such, before any data", async () => {
  const archive = await encrypt(payload);
  await assert.rejects(decrypt(archive, other), (e) => {
    assert.ok(e instanceof KeyError);
    assert.match((e as Error).message, /different key/);
    return true;
  });
});

Deno.test("something that is not an archive says so", async () => {
  await assert.rejects(
    decrypt(new TextEncoder().encode("just some text, not an archive at all")),
    /not a Packrat archive/,
  );
});
