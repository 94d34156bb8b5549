/** `packrat backup <service>… | --all`: run backups now. @module */
import type { Command } from "commander";
import { attemptBackup } from "../backup/attempt.ts";
import type { BackupReport } from "../backup/run.ts";
import { closeDestinations } from "../destinations/index.ts";
import { ExitCode, exitCodeOf } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { backupProgress, progressBoard } from "../ui/progress.ts";
import { type Cli, openContext, readKey, selectServices } from "./context.ts";
import { keepOnly } from "./permissions.ts";
import { interruptible } from "./signals.ts";

export function registerBackup(program: Command, cli: Cli): void {
  program
    .command("backup")
    .description("back up services now")
    .argument("[services...]", "services to back up")
    .option("--all", "back up every configured service")
    .action(async (names: string[], options: { all?: boolean }) => {
      keepOnly("write", "net", "run");
      const ctx = await openContext(cli.global());
      const services = selectServices(ctx.config, names, options.all ?? false);
      const master = await readKey(ctx.config);
      const outcomes: number[] = [];
      const quiet = cli.global().quiet ?? false;
      await interruptible(async (signal) => {
        try {
          for (const service of services) {
            signal.throwIfAborted();
            const board = progressBoard(quiet ? undefined : ctx.log);
            try {
              const report = await attemptBackup(
                { ...ctx, master, signal, ...backupProgress(board) },
                service,
                { trigger: "manual" },
              );
              board.done();
              printReport(report);
              outcomes.push(outcomeOf(report));
            } catch (error) {
              board.done();
              if (services.length === 1 || signal.aborted) throw error;
              ctx.log.error(`${service.name}: ${(error as Error).message}`);
              outcomes.push(exitCodeOf(error));
            }
          }
        } finally {
          await closeDestinations(ctx.destinations);
        }
      });
      cli.exitWith(combine(outcomes));
    });
}

function outcomeOf(report: BackupReport): number {
  if (report.postBackupError || report.containerError) return ExitCode.failure;
  const failed = report.results.filter((r) => !r.ok).length;
  if (failed === 0) return ExitCode.ok;
  return failed === report.results.length ? ExitCode.destination : ExitCode.partial;
}

/**
 * One exit code for several services: the worst outcome wins, and a service with no backup at
 * all is worse than a partial success, so monitoring never mistakes it for a warning.
 */
function combine(outcomes: number[]): number {
  const failure = outcomes.find((o) => o !== ExitCode.ok && o !== ExitCode.partial);
  if (failure !== undefined) return failure;
  return outcomes.includes(ExitCode.partial) ? ExitCode.partial : ExitCode.ok;
}

function printReport(report: BackupReport): void {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `${report.service}: backup ${report.id} — ${report.entries} entries, ${
      formatBytes(report.bytesIn)
    } → ${formatBytes(report.size)} encrypted, archived in ${seconds(report.archiveMs)}, total ${
      seconds(report.totalMs)
    }${report.warnings ? `, ${report.warnings} warnings` : ""}`,
  ];
  const width = Math.max(...report.results.map((r) => r.destination.length));
  for (const r of report.results) {
    const status = r.ok ? "ok    " : "FAILED";
    const detail = r.ok
      ? `${seconds(r.durationMs)}${
        r.pruned.length ? `, retention deleted ${r.pruned.length}` : ""
      }${r.pruneError ? `, retention failed: ${r.pruneError}` : ""}`
      : r.error;
    lines.push(`  ${r.destination.padEnd(width)}  ${status}  ${detail}`);
  }
  for (const problem of [report.containerError, report.postBackupError]) {
    if (problem) lines.push(`  ${problem} (the backup itself is stored)`);
  }
  console.log(lines.join("\n"));
}
