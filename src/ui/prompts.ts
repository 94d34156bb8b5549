/**
 * Interactive questions, only on a terminal: scripts pass flags instead.
 *
 * @module
 */
import * as clack from "@clack/prompts";
import type { BackupRow } from "../catalog/catalog.ts";
import { InterruptedError, PackratError, UsageError } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { formatAgo, formatLocalTime } from "./time.ts";

/** Asks a yes/no question on a terminal (default No); without one, `flag` must be given. */
export async function confirm(message: string, flag: string): Promise<boolean> {
  requireTerminal(flag);
  const answer = await clack.confirm({ message, initialValue: false });
  if (clack.isCancel(answer)) throw cancelled();
  return answer === true;
}

/** Throws the usage error naming `flag` when there is no terminal to ask on. */
export function requireTerminal(flag: string): void {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(`not running on a terminal: pass ${flag}`);
  }
}

/** Ctrl-C (or Esc) at a prompt: the same as SIGINT — nothing was changed, exit 130. */
function cancelled(): InterruptedError {
  return new InterruptedError("SIGINT", "nothing was changed");
}

/** A service to pick, with its newest backup (if any was found). */
export interface ServiceChoice {
  readonly name: string;
  readonly newest?: Date;
}

/** The first step of an interactive restore without a service name. */
export async function selectService(choices: readonly ServiceChoice[]): Promise<string> {
  requireTerminal("the service name");
  const now = new Date();
  const width = Math.max(...choices.map((c) => c.name.length));
  const choice = await clack.select({
    message: "Restore which service?",
    options: choices.map((c) => ({
      value: c.name,
      label: `${c.name.padEnd(width)}  ${
        c.newest ? `newest backup ${formatAgo(c.newest, now)}` : "no backups yet"
      }`,
    })),
  });
  if (clack.isCancel(choice)) throw cancelled();
  return choice;
}

/**
 * The restore selector: arrow keys over the backups, newest first — local time, age, size,
 * file count when known, and where each is stored (one held by a single destination of
 * several is marked).
 */
export async function selectBackup(
  rows: readonly BackupRow[],
  service: string,
  options: { destinations: number; entries?: ReadonlyMap<string, number> },
): Promise<BackupRow> {
  if (rows.length === 0) {
    throw new PackratError(
      `${service} has no backups yet; make one with \`packrat backup ${service}\``,
    );
  }
  requireTerminal("--backup ID (or --backup latest)");
  const now = new Date();
  const ages = rows.map((row) => formatAgo(row.time, now));
  const ageWidth = Math.max(...ages.map((a) => a.length));
  const counts = rows.map((row) => {
    const entries = options.entries?.get(row.id);
    return entries === undefined ? "" : `${entries.toLocaleString("en-US")} entries`;
  });
  const countWidth = Math.max(...counts.map((c) => c.length));
  const choice = await clack.select({
    message: `Restore which backup of ${service}? (newest first)`,
    options: rows.map((row, i) => {
      const where = row.destinations.length === 1 && options.destinations > 1
        ? `only on ${row.destinations[0]}`
        : row.destinations.join(", ");
      return {
        value: row.id,
        label: `${formatLocalTime(row.time)}  ${ages[i].padEnd(ageWidth)}  ${
          formatBytes(row.size).padStart(9)
        }${countWidth ? `  ${counts[i].padEnd(countWidth)}` : ""}  ${where}  ${row.id}`,
      };
    }),
  });
  if (clack.isCancel(choice)) throw cancelled();
  return rows.find((row) => row.id === choice)!;
}
