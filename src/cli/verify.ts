/** `packrat verify [service] [--backup ID] [--from DEST]`: a full restore test without writing. @module */
import type { Command } from "commander";
import { listBackups } from "../backup/catalog.ts";
import { closeDestinations } from "../destinations/index.ts";
import { ExitCode } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { pickBackup, sourcesFor } from "../restore/find.ts";
import { verifyBackup } from "../restore/verify.ts";
import { type Cli, openContext, readKey, serviceNamed } from "./context.ts";
import { keepOnly } from "./permissions.ts";
import { exitCodeOf } from "../errors.ts";

export function registerVerify(program: Command, cli: Cli): void {
  program
    .command("verify")
    .description(
      "download and fully decrypt and unpack a backup, writing nothing (default: newest)",
    )
    .argument("[service]", "only this service (default: all)")
    .option("--backup <id>", "backup id, a unique prefix of one, or 'latest'", "latest")
    .option("--from <destination>", "read from this destination")
    .action(async (name: string | undefined, flags: { backup: string; from?: string }) => {
      keepOnly("net");
      const ctx = await openContext(cli.global());
      const services = name ? [serviceNamed(ctx.config, name)] : ctx.config.services;
      const master = await readKey(ctx.config);
      const host = ctx.config.backup.host;
      let worst: number = ExitCode.ok;
      try {
        for (const service of services) {
          try {
            const rows = await listBackups(ctx.destinations, host, service.name, ctx.log);
            if (!name && rows.length === 0) {
              console.log(`${service.name}: no backups yet`);
              continue;
            }
            const row = pickBackup(rows, flags.backup, service.name);
            const report = await verifyBackup({
              sources: sourcesFor(ctx.destinations, row, flags.from),
              host,
              row,
              master,
              log: ctx.log,
            });
            console.log(
              `${service.name}: backup ${row.id} on ${report.from} is intact — ${report.entries} entries, ${
                formatBytes(report.bytes)
              }`,
            );
          } catch (error) {
            if (services.length === 1) throw error;
            ctx.log.error(`${service.name}: ${(error as Error).message}`);
            worst = Math.max(worst, exitCodeOf(error));
          }
        }
      } finally {
        await closeDestinations(ctx.destinations);
      }
      cli.exitWith(worst);
    });
}
