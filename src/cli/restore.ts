/**
 * `packrat restore <service>`: pick a backup (interactive on a terminal, or `--backup`), then
 * restore it into the service path or `--target`.
 *
 * @module
 */
import type { Command } from "commander";
import type { Config } from "../config/types.ts";
import { listBackups } from "../catalog/catalog.ts";
import { closeDestinations } from "../destinations/index.ts";
import { withContainersStopped } from "../docker/stop_start.ts";
import { UsageError } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { pickBackup, sourcesFor } from "../restore/find.ts";
import { compileIncludes } from "../restore/include.ts";
import { restoreBackup } from "../restore/restore.ts";
import { resolveTarget } from "../restore/target.ts";
import { StateLock } from "../state/lock.ts";
import { recoverDeadRuns } from "../state/recover.ts";
import { confirm, selectBackup } from "../ui/prompts.ts";
import { type Cli, openContext, readKey, serviceNamed } from "./context.ts";
import { keepOnly } from "./permissions.ts";
import { interruptible } from "./signals.ts";

interface RestoreFlags {
  backup?: string;
  from?: string;
  target?: string;
  include?: string[];
  yes?: boolean;
}

export function registerRestore(program: Command, cli: Cli): void {
  program
    .command("restore")
    .description("restore a backup into the service path (or --target)")
    .argument("<service>", "service to restore")
    .option("--backup <id>", "backup id, a unique prefix of one, or 'latest'")
    .option("--from <destination>", "read from this destination (local, s3, synology)")
    .option("--target <dir>", "restore into this directory instead; live data stays untouched")
    .option("--include <glob...>", "restore only matching paths (doublestar globs)")
    .option("--yes", "do not ask before replacing existing data")
    .action(async (name: string, flags: RestoreFlags) => {
      keepOnly("write", "net");
      // Bad patterns are found before anything is asked or downloaded.
      compileIncludes(flags.include ?? []);
      const ctx = await openContext(cli.global());
      try {
        const service = serviceNamed(ctx.config, name);
        const target = resolveTarget(flags.target ?? service.path);
        if (!flags.include?.length) refuseOverOwnData(ctx.config, target);
        const master = await readKey(ctx.config);
        const host = ctx.config.backup.host;
        const { rows, unreachable } = await listBackups(
          ctx.destinations,
          host,
          service.name,
          ctx.log,
        );
        const row = flags.backup
          ? pickBackup(rows, flags.backup, service.name)
          : await selectBackup(rows, service.name);
        const sources = sourcesFor(ctx.destinations, row, flags.from, unreachable);
        if (!flags.yes && await holdsData(target)) {
          const what = flags.include?.length ? "Matching files in" : "Everything in";
          const ok = await confirm(
            `${what} ${target} will be replaced by backup ${row.id} (${
              formatBytes(row.size)
            }). Continue?`,
            "--yes to replace existing data",
          );
          if (!ok) throw new UsageError("restore cancelled; nothing was changed");
        }
        // Into the service's data, the restore is a writer of the service like a backup: it
        // takes the service's lock. Elsewhere it changes no service, but its staging directory
        // is noted under a lock of its own all the same, for the next run to remove if it dies.
        const live = flags.target ? livePathOf(service.path) : target;
        const inPlace = target === live;
        const lock = inPlace || (live !== undefined && target.startsWith(`${live}/`))
          ? StateLock.service(ctx.stateDir, service.name, "restore")
          : StateLock.run(ctx.stateDir, "restore");
        try {
          await recoverDeadRuns(ctx, lock);
          const restore = (signal: AbortSignal) =>
            restoreBackup({
              sources,
              host,
              row,
              master,
              target,
              include: flags.include ?? [],
              log: ctx.log,
              journal: lock,
              signal,
            });
          // Restoring the live data of a containerised service: its containers are stopped
          // for the restore and started (and checked for health) afterwards, whatever happens.
          const docker = inPlace ? service.docker : undefined;
          const { value: report, restartError } = await interruptible((signal) =>
            docker
              ? withContainersStopped(
                { docker, service: service.name, log: ctx.log, journal: lock },
                () => restore(signal),
              )
              : restore(signal).then((value) => ({ value, restartError: undefined }))
          );
          console.log(
            `${service.name}: restored ${row.id} from ${report.from} into ${report.target} — ${report.files} files, ${report.dirs} directories, ${report.links} links, ${
              formatBytes(report.bytes)
            }`,
          );
          if (restartError) throw restartError;
        } finally {
          lock.release();
        }
      } finally {
        await closeDestinations(ctx.destinations);
      }
    });
}

/** The service's data directory as a restore target, if it can be resolved. */
function livePathOf(path: string): string | undefined {
  try {
    return resolveTarget(path);
  } catch {
    return undefined;
  }
}

async function holdsData(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) return true;
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * A full restore replaces everything in the target. If the local destination or the staging
 * directory lives there, that would delete the backups themselves.
 */
function refuseOverOwnData(config: Config, target: string): void {
  const own = [config.backup.local?.path, config.backup.stagingDir].filter((p) => p !== undefined);
  for (const path of own) {
    if (path === target || path.startsWith(`${target}/`)) {
      throw new UsageError(
        `${path} (a destination or the staging directory) is inside ${target}: a full restore would replace it. Restore with --target elsewhere, or with --include`,
      );
    }
  }
}
