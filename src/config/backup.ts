/** @module Reads `backup`: global defaults and the destinations (local, s3, synology). */

import {
  hostName,
  isPathSegment,
  localPathIn,
  retentionField,
  secretField,
  timeZone,
} from "./fields.ts";
import { normalizeSlashes } from "./paths.ts";
import type { ConfigEnvironment } from "./schema.ts";
import {
  boolean,
  duration,
  type Entry,
  integer,
  isSet,
  listOf,
  type Mapping,
  optional,
  type Read,
  type ReadContext,
  readMapping,
  report,
  required,
  text,
  valueNode,
} from "./reader.ts";
import type {
  BackupConfig,
  LocalConfig,
  RetentionPolicy,
  S3Config,
  SynologyConfig,
  VerifyConfig,
} from "./types.ts";
import { DEFAULT_VERIFY, verifyIn } from "./verify.ts";

const DESTINATIONS = ["local", "s3", "synology"] as const;
const BACKUP_KEYS = [
  "retain_backups",
  "retain",
  "host",
  "staging_dir",
  "state_dir",
  "concurrency",
  "retry_after",
  "metrics_file",
  "timezone",
  "catch_up",
  "verify",
  ...DESTINATIONS,
];
const S3_KEYS = [
  "endpoint",
  "region",
  "bucket",
  "access_key_id",
  "access_key_id_file",
  "secret_access_key",
  "secret_access_key_file",
  "path",
];
const SYNOLOGY_KEYS = [
  "host",
  "port",
  "username",
  "key_file",
  "key_passphrase",
  "key_passphrase_file",
  "path",
  "known_hosts",
  "host_key",
];

/** Three tries in all: after 5 and after 30 minutes. */
const DEFAULT_RETRY_AFTER_MS = [5 * 60_000, 30 * 60_000];

/** The `backup` section, and the retention it sets as the default for services. */
export interface BackupSection {
  readonly config: BackupConfig;
  readonly defaultRetention?: RetentionPolicy;
  /** Defaults for services that set none. */
  readonly timezone?: string;
  readonly catchUp?: boolean;
  readonly verify?: VerifyConfig;
}

/** Reads `backup`; at least one destination is required. */
export function backupIn(env: ConfigEnvironment): Read<BackupSection> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, BACKUP_KEYS);
    if (!mapping) return undefined;
    if (!DESTINATIONS.some((destination) => isSet(mapping, destination))) {
      report(
        ctx,
        mapping.at,
        `${entry.path} needs at least one destination: local, s3 or synology ` +
          `(e.g. backup.local.path: /mnt/backups)`,
      );
    }
    const defaultRetention = retentionField(ctx, mapping);
    const config: BackupConfig = {
      host: optional(ctx, mapping, "host", hostName) ?? defaultHost(ctx, mapping, env.hostname),
      stagingDir: optional(ctx, mapping, "staging_dir", localPathIn(env.home)) ??
        normalizeSlashes(env.tmpdir),
      stateDir: optional(ctx, mapping, "state_dir", localPathIn(env.home)),
      concurrency: optional(ctx, mapping, "concurrency", integer(1)) ?? 1,
      retryAfterMs: optional(ctx, mapping, "retry_after", listOf(duration())) ??
        DEFAULT_RETRY_AFTER_MS,
      metricsFile: optional(ctx, mapping, "metrics_file", localPathIn(env.home)),
      local: optional(ctx, mapping, "local", localIn(env.home)),
      s3: optional(ctx, mapping, "s3", s3In(env.home)),
      synology: optional(ctx, mapping, "synology", synologyIn(env.home)),
    };
    return {
      config,
      defaultRetention,
      timezone: optional(ctx, mapping, "timezone", timeZone),
      catchUp: optional(ctx, mapping, "catch_up", boolean),
      verify: optional(ctx, mapping, "verify", verifyIn(DEFAULT_VERIFY)),
    };
  };
}

function defaultHost(ctx: ReadContext, mapping: Mapping, hostname: string): string {
  if (!isPathSegment(hostname)) {
    report(
      ctx,
      mapping.at,
      `this machine's hostname "${hostname}" cannot be a directory name; set ${mapping.path}.host`,
    );
  }
  return hostname;
}

function localIn(home: string): Read<LocalConfig> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, ["path"]);
    const path = mapping && required(ctx, mapping, "path", localPathIn(home));
    return path === undefined ? undefined : { path };
  };
}

function s3In(home: string): Read<S3Config> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, S3_KEYS);
    if (!mapping) return undefined;
    const endpoint = optional(ctx, mapping, "endpoint", endpointUrl);
    const region = optional(ctx, mapping, "region", text()) ?? "us-east-1";
    const bucket = required(ctx, mapping, "bucket", bucketName);
    const accessKeyId = secretField(ctx, mapping, "access_key_id", home);
    const secretAccessKey = secretField(ctx, mapping, "secret_access_key", home);
    checkCredentialPair(ctx, mapping);
    const prefix = optional(ctx, mapping, "path", text({ allowEmpty: true })) ?? "";
    return bucket === undefined ? undefined : {
      endpoint: endpoint || undefined,
      region,
      bucket,
      accessKeyId,
      secretAccessKey,
      path: keyPrefix(prefix),
    };
  };
}

/** An http(s) URL, or "" for AWS S3. */
const endpointUrl: Read<string> = (ctx, entry) => {
  const value = text({ allowEmpty: true })(ctx, entry)?.trim();
  if (value === undefined || value === "") return value;
  const protocol = URL.canParse(value) ? new URL(value).protocol : "";
  if (protocol !== "http:" && protocol !== "https:") {
    report(
      ctx,
      valueNode(entry),
      `${entry.path}: "${value}" must be an http:// or https:// URL ` +
        `(e.g. https://s3.us-west-001.backblazeb2.com), or empty for AWS S3`,
    );
    return undefined;
  }
  return value;
};

const bucketName: Read<string> = (ctx, entry) => {
  const value = text()(ctx, entry);
  if (value?.includes("/")) {
    const prefix = entry.path.replace(/bucket$/, "path");
    report(
      ctx,
      valueNode(entry),
      `${entry.path} must be a bucket name only; put "/…" in ${prefix}`,
    );
    return undefined;
  }
  return value;
};

/** Both credentials, or neither (then the AWS environment variables and profiles apply). */
function checkCredentialPair(ctx: ReadContext, mapping: Mapping): void {
  const given = (name: string) => isSet(mapping, name) || isSet(mapping, `${name}_file`);
  const [present, missing] = given("access_key_id")
    ? ["access_key_id", "secret_access_key"]
    : ["secret_access_key", "access_key_id"];
  if (given(present) && !given(missing)) {
    const entry = mapping.entries.get(present) ?? mapping.entries.get(`${present}_file`);
    report(
      ctx,
      entry?.key,
      `${mapping.path} sets ${present} but not ${missing}; set both ` +
        `(or neither, to use the AWS environment variables)`,
    );
  }
}

/** A key prefix: no leading "/", and a trailing "/" unless it is empty. */
function keyPrefix(path: string): string {
  const trimmed = path.trim().replace(/\/{2,}/g, "/").replace(/^\/|\/$/g, "");
  return trimmed === "" ? "" : `${trimmed}/`;
}

function synologyIn(home: string): Read<SynologyConfig> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, SYNOLOGY_KEYS);
    if (!mapping) return undefined;
    const host = required(ctx, mapping, "host", text());
    const port = optional(ctx, mapping, "port", integer(1, 65535)) ?? 22;
    const username = required(ctx, mapping, "username", text());
    const keyFile = required(ctx, mapping, "key_file", localPathIn(home));
    const keyPassphrase = secretField(ctx, mapping, "key_passphrase", home);
    // A remote path: relative to the SSH login directory, so neither `~`-expanded nor made absolute.
    const path = required(ctx, mapping, "path", text());
    const knownHosts = optional(ctx, mapping, "known_hosts", localPathIn(home));
    const hostKey = optional(ctx, mapping, "host_key", hostKeyFingerprint);
    if (
      host === undefined || username === undefined || keyFile === undefined || path === undefined
    ) {
      return undefined;
    }
    return {
      host,
      port,
      username,
      keyFile,
      keyPassphrase,
      path: normalizeSlashes(path),
      knownHosts: knownHosts ??
        (hostKey === undefined ? normalizeSlashes(`${home}/.ssh/known_hosts`) : undefined),
      hostKey,
    };
  };
}

/** `SHA256:` and 43 base64 characters, as `ssh-keygen -lf` prints it. */
const hostKeyFingerprint: Read<string> = (ctx, entry: Entry) => {
  const value = text()(ctx, entry);
  if (value !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(value)) {
    report(
      ctx,
      valueNode(entry),
      `${entry.path}: "${value}" is not a SHA256 host key fingerprint ` +
        `(get it with: ssh-keyscan HOST | ssh-keygen -lf -)`,
    );
    return undefined;
  }
  return value;
};
