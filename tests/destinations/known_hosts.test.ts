import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import {
  checkKnownHosts,
  fingerprint,
  hostKeyAlgorithms,
  knownKeyTypes,
  refusalMessage,
} from "../../src/destinations/known_hosts.ts";

const key = new TextEncoder().encode("\0\0\0\x0bssh-ed25519 pretend public key bytes");
const other = new TextEncoder().encode("\0\0\0\x0bssh-ed25519 a different key");
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

Deno.test("fingerprint is OpenSSH's SHA256 form", () => {
  const expected = createHash("sha256").update(key).digest("base64").replace(/=+$/, "");
  assert.equal(fingerprint(key), `SHA256:${expected}`);
  assert.doesNotMatch(fingerprint(key), /=/);
});

Deno.test("plain entries: port 22 by name, other ports as [host]:port", () => {
  const text = `nas.lan ssh-ed25519 ${b64(key)}\n[127.0.0.1]:2222 ssh-ed25519 ${
    b64(key)
  } comment\n`;
  assert.deepEqual(checkKnownHosts(text, "nas.lan", 22, key), { ok: true });
  assert.deepEqual(checkKnownHosts(text, "127.0.0.1", 2222, key), { ok: true });
  const unknown = checkKnownHosts(text, "127.0.0.1", 22, key);
  assert.equal(unknown.ok, false);
  assert.equal(!unknown.ok && unknown.reason, "unknown");
});

Deno.test("a different key for a known host is a changed key, with the offered fingerprint", () => {
  const text = `# comment\n\nnas.lan,10.0.0.5 ssh-ed25519 ${b64(key)}\n`;
  const verdict = checkKnownHosts(text, "10.0.0.5", 22, other);
  assert.deepEqual(verdict, { ok: false, reason: "changed", fingerprint: fingerprint(other) });
  if (!verdict.ok) {
    const message = refusalMessage(verdict, "10.0.0.5", 22, "/root/.ssh/known_hosts");
    assert.match(message, /does not match \/root\/\.ssh\/known_hosts/);
    assert.ok(message.includes(fingerprint(other)));
  }
});

Deno.test("hashed entries, wildcards, negation and @revoked", () => {
  const salt = Buffer.from("0123456789abcdefghij");
  const hash = createHmac("sha1", salt).update("[nas]:2200").digest("base64");
  const hashed = `|1|${salt.toString("base64")}|${hash} ssh-ed25519 ${b64(key)}`;
  assert.deepEqual(checkKnownHosts(hashed, "nas", 2200, key), { ok: true });
  assert.equal(checkKnownHosts(hashed, "nas", 22, key).ok, false);

  const wild = `*.lan,!evil.lan ssh-ed25519 ${b64(key)}`;
  assert.deepEqual(checkKnownHosts(wild, "nas.lan", 22, key), { ok: true });
  assert.equal(checkKnownHosts(wild, "evil.lan", 22, key).ok, false);

  const revoked = `@revoked * ssh-ed25519 ${b64(key)}\nnas ssh-ed25519 ${b64(key)}`;
  const verdict = checkKnownHosts(revoked, "nas", 22, key);
  assert.equal(!verdict.ok && verdict.reason, "revoked");
});

const RSA = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

Deno.test("host key algorithms: only the types the file holds for the host, in ssh2's order", () => {
  const text = [
    `[nas]:2222 ssh-rsa ${b64(key)}`,
    `[nas]:2222 ecdsa-sha2-nistp384 ${b64(key)}`,
    `[other]:2222 ssh-ed25519 ${b64(key)}`,
    `nas ecdsa-sha2-nistp256 ${b64(key)}`,
  ].join("\n");
  assert.deepEqual(hostKeyAlgorithms(text, "nas", 2222), ["ecdsa-sha2-nistp384", ...RSA]);
  assert.deepEqual(knownKeyTypes(text, "nas", 2222), ["ecdsa-sha2-nistp384", "ssh-rsa"]);
  assert.deepEqual(hostKeyAlgorithms(text, "nas", 22), ["ecdsa-sha2-nistp256"]);
  assert.deepEqual(hostKeyAlgorithms(text, "other", 2222), ["ssh-ed25519"]);
});

Deno.test("host key algorithms: no usable entry for the host leaves ssh2's default", () => {
  const text = `nas ssh-ed25519 ${b64(key)}\n# [nas]:2222 ssh-rsa ${b64(key)}\n`;
  assert.equal(hostKeyAlgorithms(text, "nas", 2222), undefined);
  assert.equal(hostKeyAlgorithms("", "nas", 22), undefined);
  // A type ssh2 cannot negotiate (security keys) says nothing about what the server offers.
  assert.equal(
    hostKeyAlgorithms(`nas sk-ssh-ed25519@openssh.com ${b64(key)}`, "nas", 22),
    undefined,
  );
});

Deno.test("host key algorithms: hashed and wildcard entries count, @revoked and @cert-authority do not", () => {
  const salt = Buffer.from("0123456789abcdefghij");
  const hash = createHmac("sha1", salt).update("[nas]:2200").digest("base64");
  const text = [
    `|1|${salt.toString("base64")}|${hash} ecdsa-sha2-nistp521 ${b64(key)}`,
    `*.lan,!evil.lan ssh-rsa ${b64(key)}`,
    `@revoked [nas]:2200 ssh-ed25519 ${b64(other)}`,
    `@cert-authority [nas]:2200 ssh-rsa ${b64(other)}`,
  ].join("\n");
  assert.deepEqual(hostKeyAlgorithms(text, "nas", 2200), ["ecdsa-sha2-nistp521"]);
  assert.deepEqual(hostKeyAlgorithms(text, "box.lan", 22), RSA);
  assert.equal(hostKeyAlgorithms(text, "evil.lan", 22), undefined);
});
