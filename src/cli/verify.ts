/**
 * `packrat verify [service] [--backup ID] [--from DEST] [--all-copies]`: a full restore test
 * without writing. A damaged copy fails the command even when another copy is intact.
 *
 * @module
 */
import type { Command } from "commander";
import { listBackups } from "../catalog/catalog.ts";
import type { ServiceConfig } from "../config/types.ts";
import type { MasterKey } from "../crypto/key.ts";
import { ExitCode } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { pickBackup, sourcesFor } from "../restore/find.ts";
import { verifyCopies } from "../restore/verify.ts";
import { progressBoard, transfers } from "../ui/progress.ts";
import {
  type Cli,
  type Context,
  eachServiceWorst,
  openContext,
  readKey,
  serviceNamed,
} from "./context.ts";
import { keepOnly } from "./permissions.ts";
import { recordManualChecks, resultOf } from "../verify/run.ts";

interface VerifyFlags {
  backup: string;
  from?: string;
  allCopies?: boolean;
}

export function registerVerify(program: Command, cli: Cli): void {
  program
    .command("verify")
    .description(
      "download and fully decrypt and unpack a backup, restoring nothing; the results are noted for status and list (default: newest)",
    )
    .argument("[service]", "only this service (default: all)")
    .option("--backup <id>", "backup id, a unique prefix of one, or 'latest'", "latest")
    .option("--from <destination>", "read from this destination")
    .option("--all-copies", "verify the copy on every destination, not just the first one")
    .action(async (name: string | undefined, flags: VerifyFlags) => {
      // Writing: only the results, to the state directory.
      keepOnly("net", "write");
      const ctx = await openContext(cli.global());
      const services = name ? [serviceNamed(ctx.config, name)] : ctx.config.services;
      const master = await readKey(ctx.config);
      cli.exitWith(
        await eachServiceWorst(
          ctx,
          services,
          (service) =>
            verifyService(ctx, service, master, flags, {
              skipEmpty: !name,
              quiet: cli.global().quiet ?? false,
            }),
        ),
      );
    });
}

/** Verifies one service's backup; prints a line per copy read and returns the exit code. */
async function verifyService(
  ctx: Context,
  service: ServiceConfig,
  master: MasterKey,
  flags: VerifyFlags,
  { skipEmpty, quiet }: { skipEmpty: boolean; quiet: boolean },
): Promise<number> {
  const host = ctx.config.backup.host;
  const { rows, unreachable } = await listBackups(ctx.destinations, host, service.name, ctx.log);
  if (skipEmpty && rows.length === 0) {
    console.log(
      `${service.name}: no backups yet (make one with \`packrat backup ${service.name}\`)`,
    );
    return ExitCode.ok;
  }
  const row = pickBackup(rows, flags.backup, service.name);
  const board = progressBoard(quiet ? undefined : ctx.log);
  const transfer = transfers();
  let verdicts;
  try {
    verdicts = await verifyCopies({
      sources: sourcesFor(ctx.destinations, row, flags.from, unreachable),
      host,
      row,
      master,
      all: flags.allCopies ?? false,
      onProgress: (destination, read) =>
        board.update([
          `${service.name}: verifying ${row.id} on ${destination}  ${
            transfer(destination, read, row.size)
          }`,
        ]),
    });
  } finally {
    board.done();
  }
  const recorded = await recordManualChecks(ctx, service.name, {
    results: verdicts.map((verdict) => resultOf(row.id, verdict)),
    unreachable: new Map(),
    stored: unreachable.size === 0 ? new Set(rows.map((r) => r.id)) : undefined,
  });
  if (!recorded) {
    ctx.log.info(
      `${service.name}: the results are not recorded: ${service.name} is busy (a backup holds its lock)`,
    );
  }
  const copy = (destination: string) => `${service.name}: backup ${row.id} on ${destination}`;
  for (const verdict of verdicts) {
    if (verdict.status === "intact") {
      console.log(
        `${copy(verdict.destination)} is intact — ${verdict.entries} entries, ${
          formatBytes(verdict.bytes)
        }`,
      );
    } else if (verdict.status === "damaged") {
      ctx.log.error(`${copy(verdict.destination)} is damaged: ${verdict.error}`);
    } else {
      ctx.log.error(`${copy(verdict.destination)} cannot be read (unreachable): ${verdict.error}`);
    }
  }
  const unchecked = flags.allCopies && !flags.from
    ? ctx.destinations.filter((d) => !row.destinations.includes(d.name)).map((d) => d.name)
    : [];
  for (const destination of unchecked) {
    const why = unreachable.get(destination);
    if (why) ctx.log.error(`${service.name}: ${destination} is unreachable: ${why}`);
    else ctx.log.warn(`${service.name}: ${destination} holds no copy of ${row.id}`);
  }

  const intact = verdicts.filter((v) => v.status === "intact").map((v) => v.destination);
  if (verdicts.some((v) => v.status === "damaged")) {
    if (intact.length > 0) {
      ctx.log.info(`${service.name}: to restore it, use the intact copy: --from ${intact[0]}`);
    }
    return ExitCode.damaged;
  }
  const missed = verdicts.some((v) => v.status === "unreachable") ||
    unchecked.some((d) => unreachable.has(d));
  return intact.length === 0 || (flags.allCopies && missed) ? ExitCode.destination : ExitCode.ok;
}
