/** `packrat list [service] [--json]`: backups per service and destination. @module */
import type { Command } from "commander";
import { type BackupRow, listBackups } from "../catalog/catalog.ts";
import { closeDestinations } from "../destinations/index.ts";
import { formatBytes } from "../io/files.ts";
import { formatAgo, formatLocalTime } from "../ui/time.ts";
import { type Cli, openContext, serviceNamed } from "./context.ts";
import { keepOnly } from "./permissions.ts";

export function registerList(program: Command, cli: Cli): void {
  program
    .command("list")
    .description("list backups: id, time, size and where each is stored")
    .argument("[service]", "only this service")
    .option("--json", "print a JSON array")
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      keepOnly("net");
      const ctx = await openContext(cli.global());
      const services = name ? [serviceNamed(ctx.config, name)] : ctx.config.services;
      const rows: BackupRow[] = [];
      try {
        for (const service of services) {
          rows.push(
            ...(await listBackups(ctx.destinations, ctx.config.backup.host, service.name, ctx.log))
              .rows,
          );
        }
      } finally {
        await closeDestinations(ctx.destinations);
      }
      if (options.json) {
        console.log(JSON.stringify(
          rows.map((r) => ({
            service: r.service,
            id: r.id,
            time: r.time.toISOString(),
            size: r.size,
            destinations: r.destinations,
          })),
          null,
          2,
        ));
        return;
      }
      printTable(rows, services.map((s) => s.name), ctx.destinations.map((d) => d.name));
    });
}

/**
 * One row per backup: local time, age, size, a column per destination (✓ holds it, – not), the
 * id; a backup on one destination only (of several) is marked.
 */
function printTable(rows: BackupRow[], services: string[], destinations: string[]): void {
  const now = new Date();
  const table = [["SERVICE", "TIME", "AGE", "SIZE", ...destinations, "ID"]];
  for (const r of rows) {
    table.push([
      r.service,
      formatLocalTime(r.time),
      formatAgo(r.time, now),
      formatBytes(r.size),
      ...destinations.map((d) => r.destinations.includes(d) ? "✓" : "–"),
      `${r.id}${r.destinations.length === 1 && destinations.length > 1 ? "  (one copy)" : ""}`,
    ]);
  }
  const empty = services.filter((s) => !rows.some((r) => r.service === s));
  if (rows.length > 0) {
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    // Sizes read best right-aligned.
    const size = 3;
    for (const row of table) {
      console.log(
        row.map((cell, i) => i === size ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
          .join("  ").trimEnd(),
      );
    }
  }
  for (const service of empty) {
    console.log(`${service}: no backups yet (make one with \`packrat backup ${service}\`)`);
  }
}
