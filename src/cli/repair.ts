/**
 * `packrat repair [service] [--dry-run]`: every kept backup gets an intact copy on every
 * configured destination — missing copies are copied from another destination, damaged ones
 * replaced with a verified copy. Nothing is deleted.
 *
 * @module
 */
import type { Command } from "commander";
import type { ServiceConfig } from "../config/types.ts";
import type { MasterKey } from "../crypto/key.ts";
import { ExitCode } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { progressBoard, transfers } from "../ui/progress.ts";
import { type RepairReport, repairService } from "../verify/repair.ts";
import {
  type Cli,
  type Context,
  eachServiceWorst,
  openContext,
  readKey,
  serviceNamed,
} from "./context.ts";
import { keepOnly } from "./permissions.ts";

interface RepairFlags {
  dryRun?: boolean;
}

export function registerRepair(program: Command, cli: Cli): void {
  program
    .command("repair")
    .description(
      "give every destination an intact copy of every kept backup: copy missing ones from " +
        "another destination, replace damaged ones with a verified copy",
    )
    .argument("[service]", "only this service (default: all)")
    .option("--dry-run", "read every copy and say what would be copied, but change nothing")
    .action(async (name: string | undefined, flags: RepairFlags) => {
      keepOnly("net", "write");
      const ctx = await openContext(cli.global());
      const services = name ? [serviceNamed(ctx.config, name)] : ctx.config.services;
      const master = await readKey(ctx.config);
      const quiet = cli.global().quiet ?? false;
      cli.exitWith(
        await eachServiceWorst(
          ctx,
          services,
          (service) => repairOne(ctx, service, master, flags, quiet),
        ),
      );
    });
}

async function repairOne(
  ctx: Context,
  service: ServiceConfig,
  master: MasterKey,
  flags: RepairFlags,
  quiet: boolean,
): Promise<number> {
  const board = progressBoard(quiet ? undefined : ctx.log);
  const transfer = transfers();
  let report: RepairReport;
  try {
    report = await repairService(
      {
        config: ctx.config,
        destinations: ctx.destinations,
        master,
        stateDir: ctx.stateDir,
        log: ctx.log,
      },
      service,
      {
        dryRun: flags.dryRun,
        onProgress: (phase, row, destination, bytes) => {
          const what = phase === "read" ? `reading ${row.id} on` : `storing ${row.id} on`;
          board.update([
            `${service.name}: ${what} ${destination}  ${
              transfer(`${phase}:${row.id}:${destination}`, bytes, row.size)
            }`,
          ]);
        },
      },
    );
  } finally {
    board.done();
  }
  return printReport(ctx, service, report, flags.dryRun ?? false);
}

function printReport(
  ctx: Context,
  service: ServiceConfig,
  report: RepairReport,
  dryRun: boolean,
): number {
  const name = service.name;
  for (const copy of report.made) {
    const verb = dryRun
      ? copy.replaced ? "would replace the damaged copy of" : "would copy"
      : copy.replaced
      ? "replaced the damaged copy of"
      : "copied";
    const where = copy.replaced ? `on ${copy.destination}` : `to ${copy.destination}`;
    console.log(
      `${name}: ${verb} ${copy.id} ${where} from ${copy.from} (${formatBytes(copy.size)})`,
    );
  }
  for (const copy of report.failed) {
    ctx.log.error(`${name}: could not store ${copy.id} on ${copy.destination}: ${copy.error}`);
  }
  for (const { id, why } of report.lost) {
    ctx.log.error(
      `${name}: backup ${id} has no intact copy to repair from (${why}); left as it is`,
    );
  }
  for (const [destination, why] of report.unreachable) {
    ctx.log.error(
      `${name}: ${destination} could not be listed, so nothing was copied there: ${why}`,
    );
  }
  const copies = (n: number) => `${n} cop${n === 1 ? "y" : "ies"}`;
  if (report.made.length === 0 && report.failed.length === 0 && report.lost.length === 0) {
    console.log(
      report.backups === 0
        ? `${name}: no backups yet`
        : `${name}: nothing to repair; every destination holds an intact copy of all ${report.backups} kept backup${
          report.backups === 1 ? "" : "s"
        }`,
    );
  } else {
    const parts = [
      `${copies(report.made.length)} ${dryRun ? "to make" : "made"}`,
      ...(report.failed.length ? [`${copies(report.failed.length)} failed`] : []),
      ...(report.lost.length
        ? [`${report.lost.length} backup${report.lost.length === 1 ? "" : "s"} beyond repair`]
        : []),
    ];
    console.log(`${name}: ${parts.join(", ")}${dryRun ? " (dry run: nothing changed)" : ""}`);
  }
  if (report.lost.length > 0) return ExitCode.damaged;
  if (report.failed.length > 0 || report.unreachable.size > 0) return ExitCode.destination;
  return ExitCode.ok;
}
