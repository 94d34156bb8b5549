/**
 * An independent decoder written from docs/FORMAT.md alone (no Packrat imports): from the
 * password to the tar listing. If the document and the code drift apart, this fails.
 */
import assert from "node:assert/strict";
import { argon2id } from "hash-wasm";
import { assertOk, findArchives, PASSWORD, setup, tempDir } from "../helpers.ts";

const text = new TextEncoder();

async function decodeFromSpec(
  file: Uint8Array<ArrayBuffer>,
  password: string,
): Promise<Uint8Array> {
  const view = new DataView(file.buffer, file.byteOffset);
  assert.equal(new TextDecoder().decode(file.subarray(0, 8)), "PACKRAT\0");
  assert.equal(view.getUint16(8), 1);
  const bodyLength = view.getUint32(10);
  const headerEnd = 14 + bodyLength + 32;
  const checksum = new Uint8Array(
    await crypto.subtle.digest("SHA-256", file.subarray(0, 14 + bodyLength)),
  );
  assert.deepEqual(checksum, file.subarray(14 + bodyLength, headerEnd));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(14, 14 + bodyLength)));
  const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

  const master = await argon2id({
    password,
    salt: b64(header.kdf.salt),
    memorySize: header.kdf.memory_kib,
    iterations: header.kdf.iterations,
    parallelism: header.kdf.parallelism,
    hashLength: 32,
    outputType: "binary",
  });
  const idInput = new Uint8Array([...text.encode("packrat key id v1"), 0, ...master]);
  const keyId = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", idInput)).subarray(0, 16),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assert.equal(keyId, header.key_id);

  const hkdf = await crypto.subtle.importKey("raw", master as BufferSource, "HKDF", false, [
    "deriveKey",
  ]);
  const key = await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: b64(header.payload_salt),
      info: text.encode("packrat archive v1 payload"),
    },
    hkdf,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"],
  );
  const marker = file.subarray(file.length - 16);
  assert.equal(new TextDecoder().decode(marker.subarray(0, 8)), "PACKEND\0");
  assert.equal(
    Number(new DataView(marker.buffer, marker.byteOffset + 8).getBigUint64(0)),
    file.length,
  );

  const aad = file.subarray(0, headerEnd);
  const full = header.chunk_size + 16;
  const out: Uint8Array[] = [];
  let offset = headerEnd;
  for (let i = 0;; i++) {
    const last = file.length - 16 - offset <= full;
    const end = last ? file.length - 16 : offset + full;
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(3, BigInt(i));
    nonce[11] = last ? 1 : 0;
    out.push(
      new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: nonce, additionalData: aad },
          key,
          file.subarray(offset, end),
        ),
      ),
    );
    offset = end;
    if (last) break;
  }
  const payload = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of out) (payload.set(c, o), o += c.length);
  return payload;
}

Deno.test("docs/FORMAT.md is enough to decode an archive from the password alone", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(`${data}/sub`, { recursive: true });
  await Deno.writeTextFile(`${data}/sub/hello.txt`, "hello from the spec\n");
  // More than one chunk and more than one zstd frame.
  const noise = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
  await Deno.writeFile(`${data}/noise.bin`, noise);
  const s = await setup(dir.path, { spec: { path: data } });
  assertOk(await s.run(["backup", "spec"]));
  const [archive] = await findArchives(s.dest, "spec");

  const payload = await decodeFromSpec(await Deno.readFile(archive), PASSWORD);
  const zstd = new Deno.Command("sh", {
    args: ["-c", "zstd -dc | tar -tv"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = zstd.stdin.getWriter();
  await writer.write(payload);
  await writer.close();
  const listing = new TextDecoder().decode((await zstd.output()).stdout);
  assert.match(listing, /sub\/hello\.txt/);
  assert.match(listing, new RegExp(`${noise.length}.* noise\\.bin`));
});

/** Runs `sh -c script` with `input` on stdin; returns its exit code and both outputs. */
async function shell(script: string, input: Uint8Array) {
  const child = new Deno.Command("sh", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("the sparse mark is the documented PAX comment; GNU tar lists and extracts it silently", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  // 8 MiB with 4 KiB of data at 2 MiB: the rest are holes.
  const content = new Uint8Array(4096).fill(0x5a);
  {
    using file = await Deno.open(`${data}/disk.img`, { write: true, create: true });
    await file.truncate(8 * 1024 * 1024);
    await file.seek(2 * 1024 * 1024, Deno.SeekMode.Start);
    await file.write(content);
  }
  const s = await setup(dir.path, { spec: { path: data } });
  assertOk(await s.run(["backup", "spec"]));
  const [archive] = await findArchives(s.dest, "spec");
  const payload = await decodeFromSpec(await Deno.readFile(archive), PASSWORD);

  const tar = (await shell("zstd -dc", payload)).stdout;
  assert.match(tar, /\d+ comment=packrat:sparse\n/, "the record docs/FORMAT.md names");
  const listing = await shell("zstd -dc | tar -tvf -", payload);
  assert.equal(listing.code, 0, listing.stderr);
  assert.equal(listing.stderr, "", "GNU tar warned while listing");
  assert.match(listing.stdout, /8388608 .* disk\.img/);
  const out = `${dir.path}/out`;
  await Deno.mkdir(out);
  const extract = await shell(`zstd -dc | tar -xf - -C '${out}'`, payload);
  assert.equal(extract.code, 0, extract.stderr);
  assert.equal(extract.stderr, "", "GNU tar warned while extracting");
  const extracted = await Deno.readFile(`${out}/disk.img`);
  assert.equal(extracted.length, 8 * 1024 * 1024);
  assert.deepEqual(extracted.subarray(2 * 1024 * 1024, 2 * 1024 * 1024 + 4096), content);
  assert.equal(extracted.subarray(0, 2 * 1024 * 1024).some((b) => b !== 0), false);
});
