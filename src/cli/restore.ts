/**
 * `packrat restore <service>`: pick a backup (interactive on a terminal, or `--backup`), then
 * restore it into the service path or `--target`.
 *
 * @module
 */
import type { Command } from "commander";
import type { Config, ServiceConfig } from "../config/types.ts";
import type { MasterKey } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { type BackupRow, listBackups } from "../catalog/catalog.ts";
import { closeDestinations } from "../destinations/index.ts";
import { withContainersStopped } from "../docker/stop_start.ts";
import { ExitCode, InterruptedError, messageOf, PackratError, UsageError } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { pickBackup, sourcesFor } from "../restore/find.ts";
import { compileIncludes } from "../restore/include.ts";
import { parseBefore } from "../restore/when.ts";
import { isPathSegment } from "../config/fields.ts";
import { compareWithTarget } from "../restore/changes.ts";
import { restoreBackup, type RestoreReport } from "../restore/restore.ts";
import { resolveTarget } from "../restore/target.ts";
import { StateLock } from "../state/lock.ts";
import { recoverDeadRuns } from "../state/recover.ts";
import { readHistory } from "../state/history.ts";
import { confirm, requireTerminal, selectBackup, selectService } from "../ui/prompts.ts";
import { progressBoard, transferLine } from "../ui/progress.ts";
import { describeChanges, describePlan, describeRestore } from "../ui/restore_summary.ts";
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
  all?: boolean;
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
    .option("--all", "restore every configured service: the whole machine, after a disaster")
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
      if (flags.all) {
        cli.exitWith(await restoreAll(cli, name, flags, before));
        return;
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
        // Only when shown: it walks the target to say what is there now.
        const summary = () =>
          describeRestore({
            row,
            target,
            include: flags.include ?? [],
            from: sources[0]?.name,
            containers: inPlace ? service.docker?.containers ?? [] : [],
          });
        if (flags.dryRun) {
          console.log(await summary());
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
          console.log(await summary());
          const ok = await confirm("Restore now?", "--yes to replace existing data");
          if (!ok) throw new PackratError("restore cancelled; nothing was changed");
        }
        const { report, restartError } = await restoreInto(ctx, {
          service,
          row,
          sources,
          host,
          master,
          target,
          live,
          include: flags.include ?? [],
          quiet: cli.global().quiet ?? false,
        });
        console.log(restoredLine(service.name, row.id, report));
        if (restartError) throw restartError;
      } finally {
        await closeDestinations(ctx.destinations);
      }
    });
}

/** One line of `restore --all`'s plan: what will be restored, or why a service cannot be. */
interface PlannedRestore {
  readonly service: ServiceConfig;
  readonly job?: RestoreJob;
  readonly problem?: string;
}

/**
 * `restore --all`: every configured service's newest backup (before `--before`, of `--host`),
 * planned and shown first, confirmed once, restored one service after the other; one failing
 * does not stop the others. Returns the exit code: 0, 6 when some were not restored, 1 when
 * none was.
 */
async function restoreAll(
  cli: Cli,
  name: string | undefined,
  flags: RestoreFlags,
  before: Date | undefined,
): Promise<number> {
  if (name || flags.backup || flags.include?.length) {
    throw new UsageError(
      "--all restores each service's newest backup (or the newest before --before): " +
        "give no service name, --backup or --include with it",
    );
  }
  if (!flags.yes && !flags.dryRun) requireTerminal("--yes to restore every service");
  const ctx = await openContext(cli.global());
  try {
    const host = flags.host ?? ctx.config.backup.host;
    const master = await readKey(ctx.config);
    const quiet = cli.global().quiet ?? false;
    const plan: PlannedRestore[] = [];
    for (const service of ctx.config.services) {
      plan.push(await planOne(ctx, service, { host, master, before, flags, quiet }));
    }
    console.log(describePlan(
      plan.map(({ service, job, problem }) => ({
        service,
        problem,
        row: job?.row,
        from: job?.sources[0]?.name,
        target: job?.target,
        stops: job && job.target === job.live ? service.docker?.containers ?? [] : [],
      })),
      host,
    ));
    const unmapped = await unconfiguredServices(ctx, host);
    if (unmapped.length) {
      console.log(
        `Not restored: backups of ${host} that no configured service matches: ${
          unmapped.join(", ")
        } (renamed? add them to the config to restore them)`,
      );
    }
    if (flags.dryRun) {
      console.log("Nothing was changed (--dry-run).");
      return plan.every((p) => p.job) ? ExitCode.ok : ExitCode.partial;
    }
    const count = plan.filter((p) => p.job).length;
    if (count === 0) throw new PackratError(`nothing to restore from ${host}`);
    if (!flags.yes) {
      const ok = await confirm(
        `Restore these ${count} service${count === 1 ? "" : "s"} now?`,
        "--yes to restore every service",
      );
      if (!ok) throw new PackratError("restore cancelled; nothing was changed");
    }
    const results: { service: string; ok: boolean; detail: string }[] = [];
    for (const { service, job, problem } of plan) {
      if (!job) {
        results.push({ service: service.name, ok: false, detail: problem ?? "not planned" });
        continue;
      }
      try {
        const { report, restartError } = await restoreInto(ctx, job);
        console.log(restoredLine(service.name, job.row.id, report));
        results.push(
          restartError
            ? { service: service.name, ok: false, detail: `restored, but ${restartError.message}` }
            : {
              service: service.name,
              ok: true,
              detail: `${job.row.id} from ${report.from}: ${report.files} files, ${
                formatBytes(report.bytes)
              } into ${report.target}`,
            },
        );
      } catch (error) {
        // An interrupt stops everything; other failures are this service's alone.
        if (error instanceof InterruptedError) throw error;
        ctx.log.error(`${service.name}: ${messageOf(error)}`);
        results.push({ service: service.name, ok: false, detail: messageOf(error) });
      }
    }
    const width = Math.max(...results.map((r) => r.service.length));
    console.log(
      [
        "",
        "Summary:",
        ...results.map((r) =>
          `  ${r.service.padEnd(width)}  ${r.ok ? "restored" : "FAILED  "}  ${r.detail}`
        ),
      ].join("\n"),
    );
    const restored = results.filter((r) => r.ok).length;
    return restored === results.length
      ? ExitCode.ok
      : restored > 0
      ? ExitCode.partial
      : ExitCode.failure;
  } finally {
    await closeDestinations(ctx.destinations);
  }
}

/** Services the destinations hold backups of for `host` that the config does not name. */
async function unconfiguredServices(ctx: Context, host: string): Promise<string[]> {
  const configured = new Set(ctx.config.services.map((s) => s.name));
  const listed = await Promise.allSettled(ctx.destinations.map((d) => d.services(host)));
  const found = new Set(listed.flatMap((l) => l.status === "fulfilled" ? l.value : []));
  return [...found].filter((name) => !configured.has(name)).sort();
}

/** Where one service of `restore --all` comes from and goes to, or why it cannot. */
async function planOne(
  ctx: Context,
  service: ServiceConfig,
  options: {
    host: string;
    master: MasterKey;
    before?: Date;
    flags: RestoreFlags;
    quiet: boolean;
  },
): Promise<PlannedRestore> {
  const { host, before, flags } = options;
  try {
    const target = resolveTarget(
      flags.target ? `${flags.target.replace(/\/+$/, "")}/${service.name}` : service.path,
    );
    refuseOverOwnData(ctx.config, target);
    const quietLog = { ...ctx.log, warn: () => {} };
    const listed = await listBackups(ctx.destinations, host, service.name, quietLog);
    const rows = before ? backupsBefore(listed.rows, before, service.name, host) : listed.rows;
    if (rows.length === 0) return { service, problem: `no backup on any destination for ${host}` };
    const row = rows[0];
    return {
      service,
      job: {
        service,
        row,
        sources: sourcesFor(ctx.destinations, row, flags.from, listed.unreachable),
        host,
        master: options.master,
        target,
        live: flags.target ? livePathOf(service.path) : target,
        include: [],
        quiet: options.quiet,
      },
    };
  } catch (error) {
    return { service, problem: messageOf(error) };
  }
}

/** What one restore needs, once the backup is chosen. */
interface RestoreJob {
  service: ServiceConfig;
  row: BackupRow;
  sources: Destination[];
  host: string;
  master: MasterKey;
  target: string;
  /** The service's live directory, if it resolves. */
  live?: string;
  include: readonly string[];
  quiet: boolean;
}

/**
 * Restores `job.row` into `job.target`: under the service's lock when it lands in the service's
 * data (its containers stopped meanwhile and started again, whatever happens), else under a
 * lock of its own; with progress. A container that does not come back is returned, not thrown:
 * the data is restored.
 */
async function restoreInto(
  ctx: Context,
  job: RestoreJob,
): Promise<{ report: RestoreReport; restartError?: Error }> {
  const { service, row, target, live } = job;
  const inPlace = target === live;
  // Into the service's data, the restore is a writer of the service like a backup: it takes
  // the service's lock. Elsewhere it changes no service, but its staging directory is noted
  // under a lock of its own all the same, for the next run to remove if it dies.
  const lock = inPlace || (live !== undefined && target.startsWith(`${live}/`))
    ? StateLock.service(ctx.stateDir, service.name, "restore")
    : StateLock.run(ctx.stateDir, "restore");
  try {
    await recoverDeadRuns(ctx, lock);
    const board = progressBoard(job.quiet ? undefined : ctx.log);
    let started = performance.now();
    let last = 0;
    const restore = (signal: AbortSignal) =>
      restoreBackup({
        onProgress: (read) => {
          // Another copy is read from the start after a damaged one: so are rate and ETA.
          if (read < last) started = performance.now();
          last = read;
          board.update([
            `${service.name}: restoring ${row.id}  ${transferLine(read, row.size, started)}`,
          ]);
        },
        sources: job.sources,
        host: job.host,
        row,
        master: job.master,
        target,
        include: job.include,
        log: ctx.log,
        journal: lock,
        signal,
      });
    const docker = inPlace ? service.docker : undefined;
    const { value: report, restartError } = await interruptible((signal) =>
      docker
        ? withContainersStopped(
          { docker, service: service.name, log: ctx.log, journal: lock },
          () => restore(signal),
        )
        : restore(signal).then((value) => ({ value, restartError: undefined }))
    ).finally(() => board.done());
    return { report, restartError };
  } finally {
    lock.release();
  }
}

function restoredLine(service: string, id: string, report: RestoreReport): string {
  return `${service}: restored ${id} from ${report.from} into ${report.target} — ${report.files} files, ${report.dirs} directories, ${report.links} links, ${
    formatBytes(report.bytes)
  }`;
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
