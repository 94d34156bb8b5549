/**
 * Interactive questions, only on a terminal: scripts pass flags instead.
 *
 * @module
 */
import * as clack from "@clack/prompts";
import type { BackupRow } from "../catalog/catalog.ts";
import { KeyError, PackratError, UsageError } from "../errors.ts";
import { formatBytes } from "../io/files.ts";

/** Reads a password file, stripping one trailing newline. */
export async function readPasswordFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new KeyError(`cannot read password file ${path}: ${(error as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, "");
  if (password === "") throw new KeyError(`password file ${path} is empty`);
  return password;
}

/** A new password: from `file`, or typed twice on a terminal. */
export async function readNewPassword(file?: string): Promise<string> {
  if (file) return readPasswordFile(file);
  requireTerminal("--password-file FILE");
  const first = await clack.password({
    message: "New password for your backups",
    validate: (v) => (v && v.length >= 8 ? undefined : "use at least 8 characters"),
  });
  if (clack.isCancel(first)) throw new UsageError("cancelled");
  const second = await clack.password({ message: "Repeat the password" });
  if (clack.isCancel(second)) throw new UsageError("cancelled");
  if (first !== second) throw new KeyError("the passwords do not match; nothing was written");
  return first;
}

/** An existing password: from `file`, or typed once on a terminal. */
export async function readExistingPassword(file?: string): Promise<string> {
  if (file) return readPasswordFile(file);
  requireTerminal("--password-file FILE");
  const password = await clack.password({ message: "Password of your backups" });
  if (clack.isCancel(password) || !password) throw new UsageError("cancelled");
  return password;
}

/** Asks a yes/no question on a terminal; without one, `flag` must be given instead. */
export async function confirm(message: string, flag: string): Promise<boolean> {
  requireTerminal(flag);
  const answer = await clack.confirm({ message, initialValue: false });
  return !clack.isCancel(answer) && answer === true;
}

function requireTerminal(flag: string): void {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(`not running on a terminal: pass ${flag}`);
  }
}

/** The restore selector: arrow keys over the backups, newest first, with sizes and places. */
export async function selectBackup(
  rows: readonly BackupRow[],
  service: string,
): Promise<BackupRow> {
  if (rows.length === 0) throw new PackratError(`${service} has no backups yet`);
  requireTerminal("--backup ID (or --backup latest)");
  const choice = await clack.select({
    message: `Restore which backup of ${service}?`,
    options: rows.map((row) => ({
      value: row.id,
      label: `${row.time.toLocaleString("sv-SE")}  ${formatBytes(row.size).padStart(9)}  ${
        row.destinations.join(", ")
      }  ${row.id}`,
    })),
  });
  if (clack.isCancel(choice)) throw new UsageError("restore cancelled; nothing was changed");
  return rows.find((row) => row.id === choice)!;
}
