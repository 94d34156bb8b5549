/**
 * `packrat restore <service>`: pick a backup (interactive on a terminal, or `--backup`), then
 * restore it into the service path or `--target`.
 *
 * @module
 */
import type { Command } from "commander";
import type { Config } from "../config/types.ts";
import { type BackupRow, listBackups } from "../catalog/catalog.ts";
import { closeDestinations } from "../destinations/index.ts";
import { withContainersStopped } from "../docker/stop_start.ts";
import { PackratError, UsageError } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { pickBackup, sourcesFor } from "../restore/find.ts";
import { compileIncludes } from "../restore/include.ts";
import { parseBefore } from "../restore/when.ts";
import { isPathSegment } from "../config/fields.ts";
import { compareWithTarget, type RestoreChanges } from "../restore/changes.ts";
import { restoreBackup } from "../restore/restore.ts";
import { resolveTarget } from "../restore/target.ts";
import { StateLock } from "../state/lock.ts";
import { recoverDeadRuns } from "../state/recover.ts";
import { readHistory } from "../state/history.ts";
import { confirm, requireTerminal, selectBackup, selectService } from "../ui/prompts.ts";
import { progressBoard, transferLine } from "../ui/progress.ts";
import { formatAgo, formatLocalTime } from "../ui/time.ts";
import { type Cli, type Context, openContext, readKey, serviceNamed } from "./context.ts";
import { keepOnly } from "./permissions.ts";
import { interruptible } from "./signals.ts";

interface RestoreFlags {
  backup?: string;
  from?: string;
  target?: string;
  include?: string[];
  yes?: boolean;
  dryRun?: boolean;
  host?: string;
  before?: string;
}

export function registerRestore(program: Command, cli: Cli): void {
  program
    .command("restore")
    .description("restore a backup into the service path (or --target)")
    .argument("[service]", "service to restore (asked on a terminal when not given)")
    .option("--backup <id>", "backup id, a unique prefix of one, or 'latest'")
    .option("--from <destination>", "read from this destination (local, s3, synology)")
    .option("--target <dir>", "restore into this directory instead; live data stays untouched")
    .option("--include <glob...>", "restore only matching paths (doublestar globs)")
    .option("--yes", "do not ask before replacing existing data")
    .option("--dry-run", "say what the restore would add, replace and remove; change nothing")
    .option("--host <name>", "restore a backup another host name made (e.g. before a reinstall)")
    .option(
      "--before <time>",
      "the newest backup taken before this time: 2026-11-28, 2026-11-28T03:00 or '3 days ago'",
    )
    .action(async (name: string | undefined, flags: RestoreFlags) => {
      keepOnly("write", "net");
      // Bad patterns are found before anything is asked or downloaded; a script without a
      // terminal learns at once which flags it needs.
      compileIncludes(flags.include ?? []);
      const before = flags.before === undefined ? undefined : parseBefore(flags.before);
      if (flags.host !== undefined && !isPathSegment(flags.host)) {
        throw new UsageError(
          `--host "${flags.host}" is not a host name Packrat stores backups under`,
        );
      }
      if (!Deno.stdin.isTerminal()) {
        if (!name) throw new UsageError("not running on a terminal: name the service to restore");
        // --before alone picks the newest backup before that time.
        if (!flags.backup && !before) requireTerminal("--backup ID (or --backup latest)");
      }
      const ctx = await openContext(cli.global());
      try {
        const host = flags.host ?? ctx.config.backup.host;
        const service = serviceNamed(ctx.config, name ?? await pickService(ctx, host));
        const target = resolveTarget(flags.target ?? service.path);
        if (!flags.include?.length) refuseOverOwnData(ctx.config, target);
        const ask = !flags.yes && !flags.dryRun;
        if (ask && !Deno.stdin.isTerminal() && await holdsData(target)) {
          requireTerminal("--yes to replace existing data");
        }
        const master = await readKey(ctx.config);
        const listed = await listBackups(ctx.destinations, host, service.name, ctx.log);
        const { unreachable } = listed;
        const rows = before ? backupsBefore(listed.rows, before, service.name, host) : listed.rows;
        const row = flags.backup
          ? pickBackup(rows, flags.backup, service.name)
          : before && !Deno.stdin.isTerminal()
          ? rows[0]
          : await selectBackup(rows, service.name, {
            destinations: ctx.destinations.length,
            entries: await knownEntries(ctx.stateDir, service.name),
          });
        const sources = sourcesFor(ctx.destinations, row, flags.from, unreachable);
        const live = flags.target ? livePathOf(service.path) : target;
        const inPlace = target === live;
        const summary = await describeRestore({
          row,
          target,
          include: flags.include ?? [],
          from: sources[0]?.name,
          containers: inPlace ? service.docker?.containers ?? [] : [],
        });
        if (flags.dryRun) {
          console.log(summary);
          const changes = await compareWithTarget({
            stream: await sources[0].open(host, service.name, row.id),
            master,
            source: `${sources[0].name}:${row.id}`,
            target,
            include: flags.include ?? [],
          });
          console.log(describeChanges(changes));
          return;
        }
        if (ask && Deno.stdin.isTerminal()) {
          console.log(summary);
          const ok = await confirm("Restore now?", "--yes to replace existing data");
          if (!ok) throw new PackratError("restore cancelled; nothing was changed");
        }
        // Into the service's data, the restore is a writer of the service like a backup: it
        // takes the service's lock. Elsewhere it changes no service, but its staging directory
        // is noted under a lock of its own all the same, for the next run to remove if it dies.
        const lock = inPlace || (live !== undefined && target.startsWith(`${live}/`))
          ? StateLock.service(ctx.stateDir, service.name, "restore")
          : StateLock.run(ctx.stateDir, "restore");
        try {
          await recoverDeadRuns(ctx, lock);
          const board = progressBoard(cli.global().quiet ? undefined : ctx.log);
          const started = performance.now();
          const restore = (signal: AbortSignal) =>
            restoreBackup({
              onProgress: (read) =>
                board.update([
                  `${service.name}: restoring ${row.id}  ${transferLine(read, row.size, started)}`,
                ]),
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
          ).finally(() => board.done());
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

/** The interactive first step without a service name: each with its newest backup's age. */
async function pickService(ctx: Context, host: string): Promise<string> {
  const quiet = { ...ctx.log, warn: () => {} };
  const choices = await Promise.all(ctx.config.services.map(async (service) => {
    try {
      const { rows } = await listBackups(ctx.destinations, host, service.name, quiet);
      return { name: service.name, newest: rows[0]?.time };
    } catch {
      return { name: service.name };
    }
  }));
  return selectService(choices);
}

/** File counts the history knows (the newest successful backup's). */
async function knownEntries(stateDir: string, service: string): Promise<Map<string, number>> {
  try {
    const { lastSuccess } = await readHistory(stateDir, service);
    return new Map(
      lastSuccess?.entries === undefined ? [] : [[lastSuccess.id, lastSuccess.entries]],
    );
  } catch {
    return new Map();
  }
}

/** What the restore will do, before it is confirmed: what is replaced, where, how much. */
async function describeRestore(options: {
  row: BackupRow;
  target: string;
  include: readonly string[];
  from?: string;
  containers: readonly string[];
}): Promise<string> {
  const { row, target, include, containers } = options;
  const now = await treeSize(target);
  const current = now === undefined
    ? "does not exist yet; it will be created"
    : now.entries === 0
    ? "empty now"
    : `now ${now.entries.toLocaleString("en-US")} ${now.entries === 1 ? "entry" : "entries"}, ${
      formatBytes(now.bytes)
    }`;
  const what = include.length
    ? `only paths matching ${include.join(", ")}; everything else stays`
    : "everything in it";
  const lines = [
    `Restore ${row.service} from backup ${row.id} (${formatLocalTime(row.time)}, ${
      formatAgo(row.time)
    })`,
    `  into        ${target} (${current})`,
    `  replaces    ${what}`,
    `  backup      ${formatBytes(row.size)} encrypted, read from ${options.from ?? "?"}${
      row.destinations.length > 1
        ? ` (also on ${row.destinations.filter((d) => d !== options.from).join(", ")})`
        : ""
    }`,
  ];
  if (containers.length) {
    lines.push(
      `  containers  ${containers.join(", ")} will be stopped during the restore and started again`,
    );
  }
  return lines.join("\n");
}

/** Entries and bytes under `path`; undefined when it does not exist. */
async function treeSize(path: string): Promise<{ entries: number; bytes: number } | undefined> {
  const total = { entries: 0, bytes: 0 };
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      total.entries++;
      const child = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(child);
      else if (entry.isFile) total.bytes += (await Deno.lstat(child)).size;
    }
  };
  try {
    await walk(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return total;
}

/** `--dry-run`'s report: one line per path, `+` added, `~` replaced, `-` removed. */
function describeChanges(changes: RestoreChanges): string {
  const lines = [
    `Would add ${changes.added.length}, replace ${changes.replaced.length}, remove ${changes.removed.length} (${changes.unchanged} unchanged); nothing was changed.`,
    ...changes.added.map((p) => `  + ${p}`),
    ...changes.replaced.map((p) => `  ~ ${p}`),
    ...changes.removed.map((p) => `  - ${p}`),
  ];
  return lines.join("\n");
}

/** `--before`: the backups taken before `time`, newest first; none is an error saying so. */
function backupsBefore(
  rows: readonly BackupRow[],
  time: Date,
  service: string,
  host: string,
): BackupRow[] {
  const kept = rows.filter((row) => row.time < time);
  if (kept.length > 0) return kept;
  const oldest = rows.at(-1);
  throw new PackratError(
    `${host} has no backup of ${service} before ${time.toISOString()}${
      oldest ? `; the oldest is ${oldest.id}` : ""
    }`,
  );
}
