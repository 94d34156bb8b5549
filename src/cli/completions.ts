/**
 * `packrat completions bash|zsh|fish`: a completion script for the shell, describing every
 * command, option and argument the program has when it runs; and the hidden `packrat __complete`
 * that the script calls for what the configuration holds (services, destinations, backup ids).
 *
 * @module
 */
import { Argument, type Command, type Option } from "commander";
import { listBackups } from "../catalog/catalog.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { closeDestinations, openDestinations } from "../destinations/index.ts";
import {
  type ArgumentSpec,
  completionScript,
  type OptionSpec,
  type ProgramSpec,
  type Shell,
  SHELLS,
  type Values,
} from "../ui/completion_scripts.ts";
import type { Logger } from "../ui/log.ts";
import type { Cli } from "./context.ts";
import { keepOnly } from "./permissions.ts";

/** The hidden command the scripts call: `packrat __complete KIND [SERVICE]`. */
const COMPLETE_COMMAND = "__complete";

/**
 * A shell waits for the callback while the user waits for the shell: ids that take longer than
 * this to list (a destination that does not answer, retries) are not offered.
 */
const LISTING_BUDGET_MS = 2_000;

/**
 * What a value is, from the name commands give it (`<service>`, `--backup <id>`, …): a new
 * command that names its values this way is completed without further ado.
 */
const VALUES_BY_NAME: Readonly<Record<string, Values>> = {
  service: "services",
  services: "services",
  id: "backups",
  destination: "destinations",
  file: "files",
  path: "files",
  dir: "directories",
  command: "commands",
};

export function registerCompletions(program: Command, cli: Cli): void {
  program
    .command("completions")
    .description("print the completion script for bash, zsh or fish")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
    .action((shell: Shell) => {
      keepOnly();
      console.log(completionScript(shell, describeProgram(program)).trimEnd());
    });
  program
    .command(COMPLETE_COMMAND, { hidden: true })
    .description("print the configured services, destinations or a service's backup ids")
    .argument("<kind>", "services, destinations or backups")
    .argument("[service]", "whose backups")
    .action(async (kind: string, service: string | undefined) => {
      if (kind === "backups") keepOnly("net");
      else keepOnly();
      let values: string[] = [];
      try {
        values = await valuesOf(kind, service, cli.global().config);
      } catch {
        // A broken config or an unreachable destination must not spill into the shell.
      }
      if (values.length > 0) console.log(values.join("\n"));
    });
}

/** The program's visible commands, options and arguments, as the completion scripts need them. */
function describeProgram(program: Command): ProgramSpec {
  const help = program.createHelp();
  return {
    name: program.name(),
    callback: COMPLETE_COMMAND,
    options: help.visibleOptions(program).map(optionSpec),
    commands: help.visibleCommands(program).map((command) => ({
      name: command.name(),
      description: command.description(),
      options: help.visibleOptions(command).map(optionSpec),
      arguments: command.registeredArguments.map((argument): ArgumentSpec => ({
        name: argument.name(),
        description: argument.description,
        variadic: argument.variadic,
        values: valuesNamed(argument.name(), argument.argChoices),
      })),
    })),
  };
}

function optionSpec(option: Option): OptionSpec {
  const takesValue = option.required || option.optional;
  const name = /[<[]([^>\].]+)(?:\.\.\.)?[>\]]/.exec(option.flags)?.[1] ?? "";
  return {
    short: option.short,
    long: option.long,
    description: option.description,
    values: takesValue ? valuesNamed(name, option.argChoices) : undefined,
    repeats: option.variadic,
  };
}

function valuesNamed(name: string, choices: readonly string[] | undefined): Values {
  if (choices?.length) return { choices };
  return VALUES_BY_NAME[name] ?? "nothing";
}

async function valuesOf(
  kind: string,
  service: string | undefined,
  configPath: string | undefined,
): Promise<string[]> {
  if (kind === "backups" && service === undefined) return ["latest"];
  const config = await loadConfig({ path: configPath });
  switch (kind) {
    case "services":
      return config.services.map((s) => s.name);
    case "destinations":
      return destinationNames(config);
    case "backups":
      return await backupIds(config, service!);
    default:
      return [];
  }
}

/** Named as `--from` takes them, without loading the S3 and SFTP modules. */
function destinationNames(config: Config): string[] {
  const { local, s3, synology } = config.backup;
  return [local && "local", s3 && "s3", synology && "synology"].filter((n) => n !== undefined);
}

/**
 * The service's backup ids, newest first, then `latest`; none when there are none or listing
 * them takes longer than the budget.
 */
async function backupIds(config: Config, service: string): Promise<string[]> {
  if (!config.services.some((s) => s.name === service)) return [];
  const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };
  const destinations = await openDestinations(config);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), LISTING_BUDGET_MS);
  });
  try {
    const catalog = await Promise.race([
      listBackups(destinations, config.backup.host, service, silent),
      late,
    ]);
    const ids = catalog?.rows.map((row) => row.id) ?? [];
    return ids.length > 0 ? [...ids, "latest"] : [];
  } finally {
    // A destination that did not answer may not close quickly either.
    await Promise.race([closeDestinations(destinations), late]);
    clearTimeout(timer);
  }
}
