/** @module Reads secrets (`x` inline or `x_file`) at run time, never echoing their content. */

import { ConfigError } from "../errors.ts";
import type { Secret } from "./types.ts";

/**
 * The secret's value: the inline string, or the file's content with one trailing newline
 * (`\n` or `\r\n`) removed, since `echo secret > file` and most secret managers add one.
 *
 * @example
 * ```ts
 * await readSecret({ kind: "file", path: "/run/secrets/s3", key: "backup.s3.secret_access_key_file" });
 * ```
 * @throws {ConfigError} naming the config key (and file) when the secret is unreadable or empty.
 */
export async function readSecret(secret: Secret): Promise<string> {
  const value = secret.kind === "inline" ? secret.value : await readSecretFile(secret);
  if (value === "") {
    const where = secret.kind === "file" ? ` (${secret.path})` : "";
    throw new ConfigError(`${secret.key}${where} is empty`);
  }
  return value;
}

async function readSecretFile(secret: Secret & { kind: "file" }): Promise<string> {
  let content: string;
  try {
    content = await Deno.readTextFile(secret.path);
  } catch (error) {
    // Deno's own messages only hold the path and the OS reason, but say it in our words.
    throw new ConfigError(
      `${secret.key}: cannot read ${secret.path}: ${readFailureReason(error)}`,
    );
  }
  return content.replace(/\r?\n$/, "");
}

function readFailureReason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) {
    return "permission denied (check the file's owner and mode)";
  }
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory, not a file";
  if (error instanceof Deno.errors.NotCapable) return "Packrat was not granted read access";
  return error instanceof Error ? error.message : String(error);
}
