/**
 * The command line: global flags, one module per command, and the single place where errors
 * become messages and exit codes.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { ExitCode, exitCodeOf, PackratError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { clearProgressLine, stderrLogger } from "../ui/log.ts";
import { registerBackup } from "./backup.ts";
import { registerCompletions } from "./completions.ts";
import type { Cli, GlobalOptions } from "./context.ts";
import { registerDaemon } from "./daemon.ts";
import { registerDecrypt } from "./decrypt.ts";
import { registerHosts } from "./hosts.ts";
import { registerInit } from "./init.ts";
import { registerList } from "./list.ts";
import { registerPrune } from "./prune.ts";
import { registerRekey } from "./rekey.ts";
import { registerRepair } from "./repair.ts";
import { registerRestore } from "./restore.ts";
import { registerStatus } from "./status.ts";
import { registerSystemdUnit } from "./systemd_unit.ts";
import { registerVerify } from "./verify.ts";

/** Runs the CLI and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = new Command("packrat")
    .description("Encrypted, service-aware backups for homelab services")
    .version(VERSION)
    .option(
      "-c, --config <path>",
      "configuration file (default: $PACKRAT_CONFIG, ~/.config/packrat/config.yaml, /etc/packrat/config.yaml)",
    )
    .option("-q, --quiet", "only warnings and errors on stderr")
    .exitOverride()
    .showHelpAfterError("(run packrat --help for usage)");
  const cli: Cli = {
    global: () => program.opts<GlobalOptions>(),
    exitWith: (c) => code = c,
  };
  for (
    const register of [
      registerInit,
      registerRekey,
      registerBackup,
      registerList,
      registerHosts,
      registerRestore,
      registerVerify,
      registerRepair,
      registerPrune,
      registerStatus,
      registerDaemon,
      registerSystemdUnit,
      registerDecrypt,
      registerCompletions,
    ]
  ) register(program, cli);
  program.commands.forEach((c) => c.exitOverride());

  try {
    await program.parseAsync(args, { from: "user" });
    return code;
  } catch (error) {
    clearProgressLine();
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const log = stderrLogger();
    if (error instanceof PackratError || isSystemError(error)) log.error((error as Error).message);
    else log.error(`unexpected failure: ${(error as Error)?.stack ?? error}`);
    return exitCodeOf(error);
  }
}

/** Errors from the operating system (no space, permission denied, …) speak for themselves. */
function isSystemError(error: unknown): boolean {
  return Object.values(Deno.errors).some((type) => error instanceof type);
}
