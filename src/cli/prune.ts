/** `packrat prune [service] [--dry-run]`: apply retention now. @module */
import type { Command } from "commander";
import { pruneDestination } from "../backup/prune_backups.ts";
import { closeDestinations } from "../destinations/index.ts";
import { ExitCode, exitCodeOf, messageOf } from "../errors.ts";
import { StateLock } from "../state/lock.ts";
import { recoverDeadRuns } from "../state/recover.ts";
import type { ServiceConfig } from "../config/types.ts";
import { type Cli, type Context, openContext, serviceNamed } from "./context.ts";
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
      let worst: number = ExitCode.ok;
      try {
        if (!flags.dryRun) await recoverDeadRuns(ctx);
        for (const service of services) {
          if (service.retention.kind === "none") {
            ctx.log.info(`${service.name}: no retention configured; keeping every backup`);
            continue;
          }
          try {
            const code = await pruneService(ctx, service, flags.dryRun ?? false);
            worst = Math.max(worst, code);
          } catch (error) {
            if (services.length === 1) throw error;
            ctx.log.error(messageOf(error));
            worst = Math.max(worst, exitCodeOf(error));
          }
        }
      } finally {
        await closeDestinations(ctx.destinations);
      }
      cli.exitWith(worst);
    });
}

/**
 * Prunes one service on every destination, holding its lock (a dry run only reads, and takes
 * none); returns the exit code for it.
 */
async function pruneService(
  ctx: Context,
  service: ServiceConfig,
  dryRun: boolean,
): Promise<number> {
  const lock = dryRun ? undefined : StateLock.service(ctx.stateDir, service.name, "prune");
  try {
    let code: number = ExitCode.ok;
    for (const destination of ctx.destinations) {
      try {
        const deleted = await pruneDestination({
          destination,
          host: ctx.config.backup.host,
          service: service.name,
          retention: service.retention,
          dryRun,
          log: ctx.log,
        });
        console.log(
          `${service.name} on ${destination.name}: ${
            dryRun ? "would delete" : "deleted"
          } ${deleted.length}`,
        );
      } catch (error) {
        ctx.log.error(`${service.name}: ${messageOf(error)}`);
        code = ExitCode.destination;
      }
    }
    return code;
  } finally {
    lock?.release();
  }
}
