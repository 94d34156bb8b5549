/**
 * `packrat list [service] [--all-hosts] [--json]`: backups per service and destination, of this
 * host or of every host found on the destinations.
 *
 * @module
 */
import type { Command } from "commander";
import { type BackupRow, listBackups } from "../catalog/catalog.ts";
import { type HostBackupRow, listFleet } from "../catalog/fleet.ts";
import { closeDestinations } from "../destinations/index.ts";
import { readHeader } from "../crypto/header.ts";
import { messageOf } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { type CopyCheck, findHistory } from "../state/history.ts";
import { formatAge, formatAgo, formatLocalTime } from "../ui/time.ts";
import { type Cli, type Context, openContext, serviceNamed } from "./context.ts";
import { keepOnly } from "./permissions.ts";

export function registerList(program: Command, cli: Cli): void {
  program
    .command("list")
    .description("list backups: id, time, size and where each is stored")
    .argument("[service]", "only this service")
    .option("--all-hosts", "every host found on the destinations, not only this one")
    .option("--json", "print a JSON array")
    .action(async (name: string | undefined, options: ListOptions) => {
      keepOnly("net");
      const ctx = await openContext(cli.global());
      if (options.allHosts) return await listAllHosts(ctx, name, options.json);
      const services = name ? [serviceNamed(ctx.config, name)] : ctx.config.services;
      const rows: BackupRow[] = [];
      let facts: Record<string, string | null>[] | undefined;
      const checks = await copyChecks(ctx.stateDir, services.map((s) => s.name));
      try {
        for (const service of services) {
          rows.push(
            ...(await listBackups(ctx.destinations, ctx.config.backup.host, service.name, ctx.log))
              .rows,
          );
        }
        if (options.json) facts = await headerFacts(ctx, ctx.config.backup.host, rows);
      } finally {
        await closeDestinations(ctx.destinations);
      }
      if (facts) {
        console.log(
          JSON.stringify(
            rows.map((r, i) => ({
              ...backupJson(r),
              ...facts[i],
              verified: verifiedJson(r, checks.get(r.service)),
            })),
            null,
            2,
          ),
        );
        return;
      }
      printTable(rows, services.map((s) => s.name), ctx.destinations.map((d) => d.name), checks);
    });
}

interface ListOptions {
  json?: boolean;
  allHosts?: boolean;
}

/** How many archive headers are read at once. */
const HEADER_READS = 4;

/**
 * What each backup's header says about where it came from — the source path, the host and the
 * Packrat version that made it — read from the first destination holding it: the stream is
 * cancelled after the header, so no archive is downloaded. Archives made before these fields
 * existed give null; one that cannot be read gives its error.
 */
async function headerFacts(
  ctx: Context,
  host: string,
  rows: readonly BackupRow[],
): Promise<Record<string, string | null>[]> {
  const facts: Record<string, string | null>[] = new Array(rows.length);
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const i = next++;
      const row = rows[i];
      const destination = ctx.destinations.find((d) => d.name === row.destinations[0]);
      try {
        if (!destination) throw new Error("no destination holds it");
        const source = `${destination.name}:${row.id}`;
        const { meta } = await readHeader(
          await destination.open(host, row.service, row.id),
          source,
        );
        facts[i] = {
          source_path: meta.path ?? null,
          host: meta.host ?? host,
          packrat_version: meta.version ?? null,
        };
      } catch (error) {
        facts[i] = {
          source_path: null,
          host,
          packrat_version: null,
          header_error: messageOf(error),
        };
      }
    }
  };
  await Promise.all(Array.from({ length: HEADER_READS }, worker));
  return facts;
}

/** Per service: backup id → destination → the last read-back of that copy (verify, repair). */
type Checks = ReadonlyMap<string, Readonly<Record<string, Readonly<Record<string, CopyCheck>>>>>;

/** What the state directory remembers of the copies' verification; nothing when unreadable. */
async function copyChecks(stateDir: string, services: readonly string[]): Promise<Checks> {
  const checks = new Map<string, Record<string, Record<string, CopyCheck>>>();
  for (const service of services) {
    try {
      const copies = (await findHistory(stateDir, service))?.verify?.copies;
      if (copies) checks.set(service, copies);
    } catch {
      // A damaged history: `status` reports it; the listing stands without it.
    }
  }
  return checks;
}

/** `verified` in `list --json`: per destination holding the backup, its last check, or null. */
function verifiedJson(
  r: BackupRow,
  copies: Readonly<Record<string, Readonly<Record<string, CopyCheck>>>> | undefined,
) {
  return Object.fromEntries(r.destinations.map((d) => {
    const check = copies?.[r.id]?.[d];
    return [
      d,
      check ? { time: check.time, intact: check.intact, error: check.error ?? null } : null,
    ];
  }));
}

/** A backup as `list --json` prints it; fields are only ever added. */
function backupJson(r: BackupRow) {
  return {
    service: r.service,
    id: r.id,
    time: r.time.toISOString(),
    size: r.size,
    destinations: r.destinations,
  };
}

/**
 * Every host's backups. A service may be given that the config no longer has: finding those is
 * what this view is for.
 */
async function listAllHosts(
  ctx: Context,
  service: string | undefined,
  json: boolean | undefined,
): Promise<void> {
  let rows: HostBackupRow[];
  try {
    rows = (await listFleet(ctx.destinations, ctx.log)).rows;
  } finally {
    await closeDestinations(ctx.destinations);
  }
  if (service) rows = rows.filter((r) => r.service === service);
  const configured = new Set(ctx.config.services.map((s) => s.name));
  if (json) {
    console.log(JSON.stringify(
      rows.map((r) => ({ ...backupJson(r), host: r.host, in_config: configured.has(r.service) })),
      null,
      2,
    ));
    return;
  }
  if (rows.length === 0) {
    console.log(service ? `no backups of ${service} on any host` : "no backups on any host");
    return;
  }
  const destinations = ctx.destinations.map((d) => d.name);
  const now = new Date();
  const table = [["HOST", "SERVICE", ...BACKUP_HEADINGS, ...destinations, "ID"]];
  for (const r of rows) {
    table.push([
      r.host,
      configured.has(r.service) ? r.service : `${r.service} (not in config)`,
      ...backupCells(r, destinations, now),
    ]);
  }
  for (const line of formatColumns(table, [4])) console.log(line);
}

const BACKUP_HEADINGS = ["TIME", "AGE", "SIZE"];

/**
 * Local time, age, size, a column per destination, the id. A destination's cell: ✓ holds it
 * (with how long ago the copy was last read back intact, if it was), ✗ holds a copy found
 * damaged, – does not hold it.
 */
function backupCells(
  r: BackupRow,
  destinations: string[],
  now: Date,
  copies?: Readonly<Record<string, Readonly<Record<string, CopyCheck>>>>,
): string[] {
  return [
    formatLocalTime(r.time),
    formatAgo(r.time, now),
    formatBytes(r.size),
    ...destinations.map((d) => {
      if (!r.destinations.includes(d)) return "–";
      const check = copies?.[r.id]?.[d];
      if (!check) return "✓";
      const age = formatAge(now.getTime() - Date.parse(check.time));
      return check.intact ? `✓ verified ${age} ago` : `✗ DAMAGED (${age} ago)`;
    }),
    `${r.id}${r.destinations.length === 1 && destinations.length > 1 ? "  (one copy)" : ""}`,
  ];
}

/**
 * One row per backup; a backup on one destination only (of several) is marked.
 */
function printTable(
  rows: BackupRow[],
  services: string[],
  destinations: string[],
  checks: Checks,
): void {
  const now = new Date();
  const table = [["SERVICE", ...BACKUP_HEADINGS, ...destinations, "ID"]];
  for (const r of rows) {
    table.push([r.service, ...backupCells(r, destinations, now, checks.get(r.service))]);
  }
  if (rows.length > 0) { for (const line of formatColumns(table, [3])) console.log(line); }
  for (const service of services.filter((s) => !rows.some((r) => r.service === s))) {
    console.log(`${service}: no backups yet (make one with \`packrat backup ${service}\`)`);
  }
}

/** Rows of cells as aligned columns; the columns in `rightAligned` (sizes) read best that way. */
export function formatColumns(table: string[][], rightAligned: number[] = []): string[] {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table.map((row) =>
    row.map((cell, i) =>
      rightAligned.includes(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])
    )
      .join("  ").trimEnd()
  );
}
