/** @module Finds, reads and validates the config file; every problem is a ConfigError. */

import { homedir } from "node:os";
import { LineCounter, parseDocument } from "yaml";
import { ConfigError, type SourcePosition } from "../errors.ts";
import { type Problem, type ReadContext, rootEntry } from "./reader.ts";
import { type ConfigEnvironment, readConfig } from "./schema.ts";
import type { Config } from "./types.ts";

export type { ConfigEnvironment } from "./schema.ts";

/** Looks up an environment variable; `Deno.env.get` in production, a record in tests. */
export type EnvLookup = (name: string) => string | undefined;

/** Where a config file may be, and why it is looked for there. */
export interface ConfigCandidate {
  readonly path: string;
  /** `--config`, `$PACKRAT_CONFIG`, … — for messages. */
  readonly source: string;
  /** Given by the user: if it is missing, that is an error, not a reason to look further. */
  readonly explicit: boolean;
}

const SYSTEM_CONFIG = "/etc/packrat/config.yaml";

/** Shown when no config exists: enough to back up one directory to a local disk. */
const MINIMAL_EXAMPLE = [
  "  encryption:",
  "    key_file: ~/.config/packrat/key   # `packrat init` creates it",
  "  services:",
  "    documents:",
  "      path: /home/me/documents",
  "  backup:",
  "    local:",
  "      path: /mnt/usb/backups",
].join("\n");

// A long list of problems usually has one cause (say, a tab-indented file); the first few do.
const MAX_PROBLEMS_SHOWN = 20;

/**
 * Finds the config file, reads and validates it.
 *
 * @example
 * ```ts
 * const config = await loadConfig({ path: flags.config });
 * ```
 * @throws {ConfigError} when no file is found or the file is not a valid config.
 */
export async function loadConfig(options: { path?: string }): Promise<Config> {
  const env = systemEnvironment();
  const file = await findConfigFile(
    configCandidates(options.path, (name) => Deno.env.get(name), env.home),
  );
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  return parseConfig(text, file, env);
}

/**
 * Parses and validates config text. `file` is only used in messages and `Config.file`; `env`
 * supplies the home directory (for `~`), hostname and temp dir (defaults), so that tests need
 * no real machine. Without `env`, this machine's values are used.
 *
 * @throws {ConfigError} listing every problem found, one per line, each with file:line:column.
 */
export function parseConfig(
  text: string,
  file: string,
  env: ConfigEnvironment = systemEnvironment(),
): Config {
  const lines = new LineCounter();
  // Duplicate keys are reported by the schema reader, which can name the mapping they are in.
  const doc = parseDocument(text, {
    lineCounter: lines,
    merge: true,
    prettyErrors: false,
    uniqueKeys: false,
  });
  const ctx: ReadContext = { file, lines, doc, problems: [] };
  for (const error of doc.errors) {
    const { line, col } = lines.linePos(error.pos[0]);
    const message = error.code === "MULTIPLE_DOCS"
      ? "the config file must be a single YAML document (remove the --- line)"
      : `invalid YAML: ${error.message}`;
    ctx.problems.push({ message, position: { file, line, column: col } });
  }
  // A document with syntax errors is guesswork; checking its contents would only add noise.
  const config = doc.errors.length === 0 ? readConfig(ctx, rootEntry(ctx), env) : undefined;
  if (ctx.problems.length > 0) throw configError(ctx.problems);
  if (config === undefined) throw new Error("config rejected without a reported problem");
  return config;
}

/** This machine's home directory, hostname and temp dir. */
export function systemEnvironment(): ConfigEnvironment {
  return {
    // HOME is unset in some service managers; the password database still knows.
    home: Deno.env.get("HOME") || homedir(),
    hostname: Deno.hostname(),
    tmpdir: Deno.env.get("TMPDIR") || "/tmp",
  };
}

/**
 * Where to look for the config file, in order: `--config`, else `$PACKRAT_CONFIG`, else
 * `$XDG_CONFIG_HOME/packrat/config.yaml` (`~/.config/…`) and `/etc/packrat/config.yaml`.
 */
export function configCandidates(
  explicitPath: string | undefined,
  env: EnvLookup,
  home: string,
): ConfigCandidate[] {
  if (explicitPath !== undefined && explicitPath !== "") {
    return [{ path: explicitPath, source: "--config", explicit: true }];
  }
  const fromEnv = env("PACKRAT_CONFIG");
  if (fromEnv) return [{ path: fromEnv, source: "$PACKRAT_CONFIG", explicit: true }];
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const xdg = env("XDG_CONFIG_HOME");
  const user = xdg?.startsWith("/")
    ? { path: `${xdg.replace(/\/+$/, "")}/packrat/config.yaml`, source: "$XDG_CONFIG_HOME" }
    : { path: `${home.replace(/\/+$/, "")}/.config/packrat/config.yaml`, source: "~/.config" };
  return [
    { ...user, explicit: false },
    { path: SYSTEM_CONFIG, source: "system-wide", explicit: false },
  ];
}

/** The first candidate that exists. */
export async function findConfigFile(candidates: readonly ConfigCandidate[]): Promise<string> {
  for (const candidate of candidates) {
    if (await isFile(candidate)) return candidate.path;
    if (candidate.explicit) {
      throw new ConfigError(
        `config file ${candidate.path} (from ${candidate.source}) does not exist`,
      );
    }
  }
  const searched = candidates.map((candidate) => `  ${candidate.path} (${candidate.source})`);
  throw new ConfigError(
    `no config file found; looked in:\n${searched.join("\n")}\n` +
      `create one there, or pass --config PATH (or set PACKRAT_CONFIG). A minimal one:\n` +
      MINIMAL_EXAMPLE,
  );
}

async function isFile(candidate: ConfigCandidate): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(candidate.path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new ConfigError(
      `cannot read config file ${candidate.path}: ${(error as Error).message}`,
    );
  }
  if (!info.isFile) throw new ConfigError(`config file ${candidate.path} is not a file`);
  return true;
}

function configError(problems: readonly Problem[]): ConfigError {
  const sorted = uniqueProblems(problems).sort((a, b) =>
    a.position.line - b.position.line || a.position.column - b.position.column
  );
  const [first, ...rest] = sorted;
  const shown = rest.slice(0, MAX_PROBLEMS_SHOWN - 1).map((problem) =>
    `${where(problem.position)}: ${problem.message}`
  );
  if (rest.length > shown.length) {
    shown.push(`… and ${rest.length - shown.length} more`);
  }
  // ConfigError puts the first position in front of the message itself.
  return new ConfigError([first.message, ...shown].join("\n"), first.position);
}

// The same node can be read twice (an alias used in two places, a `<<` merge).
function uniqueProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${where(problem.position)}: ${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function where(position: SourcePosition): string {
  return `${position.file}:${position.line}:${position.column}`;
}
