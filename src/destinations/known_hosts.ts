/**
 * SSH host key checks: OpenSSH known_hosts files (plain, `[host]:port`, hashed `|1|` entries,
 * wildcards, `@revoked`) and pinned `SHA256:` fingerprints. An unknown or changed key is
 * refused, never trusted on first use.
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";

/** The OpenSSH fingerprint of a public key blob: `SHA256:` + unpadded base64. */
export function fingerprint(keyBlob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

export type HostKeyVerdict =
  | { ok: true }
  | { ok: false; reason: "unknown" | "changed" | "revoked"; fingerprint: string };

/** How a known_hosts file names a host: `host` on port 22, `[host]:port` otherwise. */
function hostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const regexp = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
  );
  return regexp.test(name);
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (!salt || !hash) return false;
    const digest = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return digest === hash;
  }
  let matched = false;
  for (const pattern of field.split(",")) {
    if (pattern.startsWith("!")) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) matched = true;
  }
  return matched;
}

interface Entry {
  readonly marker?: string;
  readonly hosts: string;
  readonly type: string;
  readonly key: string;
}

/** The entries of a known_hosts file, skipping blank lines, comments and truncated lines. */
function* entries(text: string): Generator<Entry> {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0].startsWith("@") ? fields.shift() : undefined;
    const [hosts, type, key] = fields;
    if (key) yield { marker, hosts, type, key };
  }
}

/** Checks `keyBlob` offered by `host:port` against the text of a known_hosts file. */
export function checkKnownHosts(
  text: string,
  host: string,
  port: number,
  keyBlob: Uint8Array,
): HostKeyVerdict {
  const name = hostName(host, port);
  const offered = Buffer.from(keyBlob).toString("base64");
  let sawHost = false;
  let accepted = false;
  for (const { marker, hosts, key } of entries(text)) {
    if (!hostMatches(hosts, name)) continue;
    if (marker === "@cert-authority") continue;
    if (marker === "@revoked") {
      if (key === offered) {
        return { ok: false, reason: "revoked", fingerprint: fingerprint(keyBlob) };
      }
      continue;
    }
    sawHost = true;
    if (key === offered) accepted = true;
  }
  if (accepted) return { ok: true };
  return { ok: false, reason: sawHost ? "changed" : "unknown", fingerprint: fingerprint(keyBlob) };
}

/**
 * ssh2's host key algorithms for each known_hosts key type, in ssh2's order of preference. An
 * `ssh-rsa` key signs with any of the three RSA algorithms.
 */
const ALGORITHMS_BY_KEY_TYPE: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["ssh-ed25519", ["ssh-ed25519"]],
  ["ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]],
  ["ecdsa-sha2-nistp384", ["ecdsa-sha2-nistp384"]],
  ["ecdsa-sha2-nistp521", ["ecdsa-sha2-nistp521"]],
  ["ssh-rsa", ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]],
];

/** The key types known_hosts holds for `host:port` that ssh2 can negotiate, in its order. */
export function knownKeyTypes(text: string, host: string, port: number): string[] {
  const name = hostName(host, port);
  const types = new Set<string>();
  for (const { marker, hosts, type } of entries(text)) {
    if (marker === undefined && hostMatches(hosts, name)) types.add(type);
  }
  return ALGORITHMS_BY_KEY_TYPE.map(([type]) => type).filter((type) => types.has(type));
}

/**
 * The host key algorithms to offer `host:port` so that it shows a key known_hosts can vouch for,
 * or undefined (ssh2's default) when the file holds no usable key for the host. Without this, a
 * server with several host keys shows the one the client prefers (ed25519), and a file holding
 * only its RSA or ECDSA key would make an honest server look like an impostor.
 */
export function hostKeyAlgorithms(text: string, host: string, port: number): string[] | undefined {
  const types = knownKeyTypes(text, host, port);
  const algorithms = ALGORITHMS_BY_KEY_TYPE.filter(([type]) => types.includes(type))
    .flatMap(([, algorithms]) => algorithms);
  return algorithms.length > 0 ? algorithms : undefined;
}

/** The user-facing explanation of a refused host key. */
export function refusalMessage(
  verdict: Extract<HostKeyVerdict, { ok: false }>,
  host: string,
  port: number,
  source: string,
): string {
  const offered = `the server offered ${verdict.fingerprint}`;
  switch (verdict.reason) {
    case "changed":
      return `host key of ${host}:${port} does not match ${source} (${offered}). If the NAS was reinstalled, check the fingerprint on the NAS itself, then update ${source}; otherwise someone may be intercepting the connection`;
    case "revoked":
      return `host key of ${host}:${port} is marked @revoked in ${source} (${offered})`;
    case "unknown":
      return `host key of ${host}:${port} is not in ${source} (${offered}). Verify it on the NAS (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then set host_key: ${verdict.fingerprint} or add it with ssh-keyscan -p ${port} ${host} >> ${source}`;
  }
}

/**
 * The user-facing explanation when the server has no host key of the types known_hosts holds
 * for it, so there is no key to check and no fingerprint to show.
 */
export function noKnownTypeMessage(
  types: readonly string[],
  host: string,
  port: number,
  source: string,
): string {
  return `host key of ${host}:${port}: ${source} holds only ${
    types.join(", ")
  } keys for it, and the server offers none of them. If the NAS was reinstalled, check its fingerprint on the NAS itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then update ${source}; otherwise someone may be intercepting the connection`;
}
