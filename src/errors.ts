/**
 * Error types users can act on, and the one place that maps them to exit codes.
 *
 * Every error says what failed, where, and what to do next. Secrets never go into a message.
 *
 * @module
 */

/** Process exit codes. Documented in the README; keep the two in step. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  key: 4,
  destination: 5,
  partial: 6,
  damaged: 7,
  locked: 8,
  interrupted: 130,
} as const;

/** Base class: a failure with a message meant for the user and an exit code. */
export class PackratError extends Error {
  readonly exitCode: number = ExitCode.failure;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in a config file a problem is. Lines and columns count from 1. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** The configuration is unusable: bad YAML, unknown key, bad value, missing file. */
export class ConfigError extends PackratError {
  override readonly exitCode: number = ExitCode.config;
  constructor(message: string, readonly position?: SourcePosition) {
    super(position ? `${position.file}:${position.line}:${position.column}: ${message}` : message);
  }
}

/** Wrong password or key, or a key file that is missing, damaged or too open. */
export class KeyError extends PackratError {
  override readonly exitCode: number = ExitCode.key;
}

/** An archive failed verification: damaged, tampered with, truncated, or not an archive. */
export class ArchiveDamagedError extends PackratError {
  override readonly exitCode: number = ExitCode.damaged;
}

/**
 * A destination could not be read or written. `permanent` errors (wrong credentials, a refused
 * host key, a missing bucket) are not worth retrying; the others may be transient.
 */
export class DestinationError extends PackratError {
  override readonly exitCode: number = ExitCode.destination;
  readonly permanent: boolean;
  constructor(
    readonly destination: string,
    message: string,
    options?: ErrorOptions & { permanent?: boolean },
  ) {
    super(`${destination}: ${message}`, options);
    this.permanent = options?.permanent ?? false;
  }
}

/** Another run holds the service's lock. */
export class LockedError extends PackratError {
  override readonly exitCode: number = ExitCode.locked;
}

/** Wrong command-line use that the argument parser could not catch. */
export class UsageError extends PackratError {
  override readonly exitCode: number = ExitCode.usage;
}

/** The run was stopped by SIGINT or SIGTERM. */
export class InterruptedError extends PackratError {
  override readonly exitCode: number = ExitCode.interrupted;
  /** `detail` says what became of the work: by default, that it was cleaned up. */
  constructor(readonly signalName: string, detail = "cleaned up and stopped") {
    super(`interrupted by ${signalName}; ${detail}`);
  }
}

/** The exit code for any thrown value. */
export function exitCodeOf(error: unknown): number {
  return error instanceof PackratError ? error.exitCode : ExitCode.failure;
}

/** The message of any thrown value, for composing messages of our own. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
