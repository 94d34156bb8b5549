/** `packrat daemon [--test]`: run the schedules, or check everything they need. @module */
import type { Command } from "commander";
import { type CheckResult, checkSetup } from "../daemon/check.ts";
import { runDaemon } from "../daemon/daemon.ts";
import { ExitCode } from "../errors.ts";
import { stderrLogger } from "../ui/log.ts";
import type { Cli } from "./context.ts";

export function registerDaemon(program: Command, cli: Cli): void {
  program
    .command("daemon")
    .description("run every service on its schedule until stopped (SIGTERM); SIGHUP reloads")
    .option(
      "--test",
      "check config, key, destinations, containers and hook directories, print each next run, " +
        "and exit (non-zero listing every problem)",
    )
    .action(async (options: { test?: boolean }) => {
      const global = cli.global();
      if (options.test) {
        cli.exitWith(await test(global.config));
        return;
      }
      const log = stderrLogger(global.quiet, { timestamps: true });
      cli.exitWith(await runDaemon({ configPath: global.config, log }));
    });
}

async function test(configPath: string | undefined): Promise<number> {
  const results = await checkSetup(configPath, (r) => console.log(line(r)));
  const problems = results.filter((r) => r.problem !== undefined);
  if (problems.length === 0) {
    console.log("\nall checks passed");
    return ExitCode.ok;
  }
  console.log(`\n${problems.length} problem${problems.length === 1 ? "" : "s"}:`);
  for (const p of problems) console.log(`  - ${p.subject}: ${p.problem}`);
  return results[0].problem !== undefined ? ExitCode.config : ExitCode.failure;
}

function line(result: CheckResult): string {
  const mark = result.problem === undefined ? "ok     " : "FAILED ";
  return `${mark} ${result.subject}${
    result.problem ?? result.detail ? `: ${result.problem ?? result.detail}` : ""
  }`;
}
