/** `packrat prune [service] [--dry-run]`: apply retention now. @module */
import type { Command } from "commander";
import { pruneDestination } from "../backup/prune_backups.ts";
import { closeDestinations } from "../destinations/index.ts";
import { ExitCode } from "../errors.ts";
import { type Cli, openContext, serviceNamed } from "./context.ts";
import { keepOnly } from "./permissions.ts";

export function registerPrune(program: Command, cli: Cli): void {
  program
    .command("prune")
    .description("delete old backups per the retention settings")
    .argument("[service]", "only this service (default: all)")
    .option("--dry-run", "only show what would be deleted")
    .action(async (name: string | undefined, flags: { dryRun?: boolean }) => {
      keepOnly("write", "net");
      const ctx = await openContext(cli.global());
      const services = name ? [serviceNamed(ctx.config, name)] : ctx.config.services;
      let failed = 0;
      try {
        for (const service of services) {
          if (service.retention.kind === "none") {
            ctx.log.info(`${service.name}: no retention configured; keeping every backup`);
            continue;
          }
          for (const destination of ctx.destinations) {
            try {
              const deleted = await pruneDestination({
                destination,
                host: ctx.config.backup.host,
                service: service.name,
                retention: service.retention,
                dryRun: flags.dryRun ?? false,
                log: ctx.log,
              });
              console.log(
                `${service.name} on ${destination.name}: ${
                  flags.dryRun ? "would delete" : "deleted"
                } ${deleted.length}`,
              );
            } catch (error) {
              failed++;
              ctx.log.error(`${service.name}: ${(error as Error).message}`);
            }
          }
        }
      } finally {
        await closeDestinations(ctx.destinations);
      }
      cli.exitWith(failed === 0 ? ExitCode.ok : ExitCode.destination);
    });
}
