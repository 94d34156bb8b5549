/**
 * The validated, resolved configuration that the rest of Packrat works with.
 *
 * Paths are absolute with `~` expanded; durations are milliseconds; retention is resolved
 * (service value, else the global default). Secrets stay unread references until a run needs
 * them (see `readSecret` in `secrets.ts`), so a config can be loaded and printed safely.
 *
 * @module
 */

/** A secret given inline (`x`) or as a file (`x_file`), read at run time. */
export type Secret =
  | { readonly kind: "inline"; readonly value: string; readonly key: string }
  | { readonly kind: "file"; readonly path: string; readonly key: string };

/** How many archives a destination keeps for one service. */
export type RetentionPolicy =
  | { readonly kind: "none" }
  | { readonly kind: "count"; readonly keep: number }
  | {
    readonly kind: "calendar";
    readonly last: number;
    readonly daily: number;
    readonly weekly: number;
    readonly monthly: number;
    readonly yearly: number;
  };

/** A command run before or after archiving (`pre_backup`, `post_backup`). */
export interface HookConfig {
  readonly command: string;
  /** Absolute; defaults to the service's path. */
  readonly workingDir: string;
  readonly environment: Readonly<Record<string, string>>;
  /** Variables set from a file (`X_file: PATH` sets `X`), read each time the hook runs. */
  readonly secretEnvironment: Readonly<Record<string, Secret>>;
  readonly timeoutMs: number;
}

/** Containers stopped while a service is archived. */
export interface DockerConfig {
  /** Stopped in this order, started in reverse. `container` becomes a one-element list. */
  readonly containers: readonly string[];
  readonly stopTimeoutMs: number;
  readonly healthTimeoutMs: number;
}

export interface NotifyTarget {
  readonly url: Secret;
}

export interface NotifyConfig {
  readonly on: "failure" | "always";
  readonly webhook?: NotifyTarget;
  readonly ntfy?: NotifyTarget;
  readonly healthchecks?: NotifyTarget;
}

/** Re-reading stored backups on a schedule (`verify:`), the service's or `backup.verify`. */
export interface VerifyConfig {
  /** A validated 5-field cron expression, in the service's time zone; absent: never scheduled. */
  readonly schedule?: string;
  /** The newest backup only, or every backup kept. */
  readonly copies: "newest" | "all";
  /** Every destination's copy, or only the first destination that holds the backup. */
  readonly destinations: "all" | "first";
  /** After a verify that found damaged or missing copies, the daemon runs `repair`. */
  readonly repair: boolean;
  /** Reads no faster than this (bytes per second); absent: as fast as it can. */
  readonly maxBytesPerSecond?: number;
}

export interface ServiceConfig {
  /** Matches `[A-Za-z0-9._-]+`, never `.` or `..`: it becomes a path segment. */
  readonly name: string;
  readonly path: string;
  /** A validated 5-field cron expression, if the daemon should run this service. */
  readonly schedule?: string;
  /** IANA time zone for the schedule; default: `backup.timezone`, else the machine's zone. */
  readonly timezone?: string;
  /** Run a scheduled time missed while the daemon was not running soon after it starts. */
  readonly catchUp: boolean;
  readonly docker?: DockerConfig;
  /** Doublestar globs relative to `path`. */
  readonly exclude: readonly string[];
  readonly retention: RetentionPolicy;
  readonly preBackup?: HookConfig;
  readonly postBackup?: HookConfig;
  /** The service's own `notify`, else the global one. */
  readonly notify?: NotifyConfig;
  /** The service's `verify` keys over `backup.verify`'s. */
  readonly verify: VerifyConfig;
}

export interface LocalConfig {
  readonly path: string;
}

export interface S3Config {
  /** Empty or absent means AWS S3. */
  readonly endpoint?: string;
  readonly region: string;
  readonly bucket: string;
  /** Absent means the standard AWS environment variables / credential chain. */
  readonly accessKeyId?: Secret;
  readonly secretAccessKey?: Secret;
  /** Key prefix, "" or ending in "/". */
  readonly path: string;
}

export interface SynologyConfig {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly keyFile: string;
  readonly keyPassphrase?: Secret;
  /** Remote directory; relative paths start at the SSH login directory. */
  readonly path: string;
  /** OpenSSH known_hosts file; default `~/.ssh/known_hosts` unless `hostKey` is set. */
  readonly knownHosts?: string;
  /** Pinned host key fingerprint, `SHA256:…`. */
  readonly hostKey?: string;
}

export interface BackupConfig {
  /** Archives are stored under this host name; default: the machine's hostname. */
  readonly host: string;
  /** Where the encrypted archive is staged before upload; default: the system temp dir. */
  readonly stagingDir: string;
  /**
   * Where locks and the records of runs in progress live, shared by every Packrat process of
   * the machine. Absent: the default (see `stateDirectory`), resolved when a command needs it.
   */
  readonly stateDir?: string;
  /** Most services the daemon backs up at once. */
  readonly concurrency: number;
  /**
   * Waits before each retry of a scheduled backup that stored nothing; its length is the number
   * of retries. Never past the service's next scheduled time.
   */
  readonly retryAfterMs: readonly number[];
  /** Prometheus node_exporter textfile the daemon and `backup` rewrite after every run. */
  readonly metricsFile?: string;
  readonly local?: LocalConfig;
  readonly s3?: S3Config;
  readonly synology?: SynologyConfig;
}

export interface Config {
  /** The file this configuration was loaded from. */
  readonly file: string;
  readonly encryption: { readonly keyFile: string };
  /** In the order of the file. */
  readonly services: readonly ServiceConfig[];
  readonly backup: BackupConfig;
}
