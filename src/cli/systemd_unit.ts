/** `packrat systemd-unit`: print a hardened unit running `packrat daemon` for this config. @module */
import type { Command } from "commander";
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { renderUnit } from "../systemd/unit.ts";
import type { Cli } from "./context.ts";
import { keepOnly } from "./permissions.ts";

export function registerSystemdUnit(program: Command, cli: Cli): void {
  program
    .command("systemd-unit")
    .description(
      "print a hardened systemd unit that runs `packrat daemon` with this config " +
        "(install it as /etc/systemd/system/packrat.service)",
    )
    .option("--user <name>", "user the daemon runs as", "root")
    .option("--group <name>", "group the daemon runs as (default: the user's)")
    .option(
      "--exec <path>",
      "the packrat executable (default: this one)",
    )
    .action(async (options: { user: string; group?: string; exec?: string }) => {
      keepOnly();
      const config = await loadConfig({ path: cli.global().config });
      const exec = options.exec ?? thisExecutable();
      if (!exec.startsWith("/")) throw new UsageError(`--exec needs an absolute path, not ${exec}`);
      console.log(renderUnit(config, { exec, user: options.user, group: options.group }));
    });
}

/**
 * The compiled binary itself; when running from a checkout under `deno run`, the wrapper script
 * that runs it with the same permissions.
 */
function thisExecutable(): string {
  const binary = Deno.execPath();
  if (!/(^|\/)deno$/.test(binary)) return binary;
  return new URL("../../scripts/packrat", import.meta.url).pathname;
}
