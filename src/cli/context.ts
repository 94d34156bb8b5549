/**
 * What every command needs: the configuration, the key, the destinations, a logger.
 *
 * @module
 */
import { loadConfig } from "../config/load.ts";
import type { Config, ServiceConfig } from "../config/types.ts";
import { type MasterKey, readKeyFile } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { closeDestinations, openDestinations } from "../destinations/index.ts";
import { ExitCode, exitCodeOf, messageOf, UsageError } from "../errors.ts";
import { stateDirectory } from "../state/directory.ts";
import { type Logger, stderrLogger } from "../ui/log.ts";

export interface GlobalOptions {
  config?: string;
  quiet?: boolean;
}

/** What command modules get from the program: global flags and a way to set the exit code. */
export interface Cli {
  global(): GlobalOptions;
  exitWith(code: number): void;
}

export interface Context {
  readonly config: Config;
  readonly log: Logger;
  readonly destinations: Destination[];
  /** Locks and run records (see src/state/). */
  readonly stateDir: string;
}

export async function openContext(options: GlobalOptions): Promise<Context> {
  const config = await loadConfig({ path: options.config });
  const log = stderrLogger(options.quiet);
  return {
    config,
    log,
    destinations: await openDestinations(config, (m) => log.warn(m)),
    stateDir: stateDirectory(config.backup.stateDir),
  };
}

export function readKey(config: Config): Promise<MasterKey> {
  return readKeyFile(config.encryption.keyFile);
}

/** The named services, or all with `--all`; unknown names are a usage error. */
export function selectServices(config: Config, names: string[], all: boolean): ServiceConfig[] {
  if (all && names.length > 0) throw new UsageError("give service names or --all, not both");
  if (all) return [...config.services];
  if (names.length === 0) {
    throw new UsageError(
      `name a service (${config.services.map((s) => s.name).join(", ")}) or use --all`,
    );
  }
  return names.map((name) => serviceNamed(config, name));
}

export function serviceNamed(config: Config, name: string): ServiceConfig {
  const service = config.services.find((s) => s.name === name);
  if (!service) {
    throw new UsageError(
      `no service "${name}" in ${config.file} (configured: ${
        config.services.map((s) => s.name).join(", ")
      })`,
    );
  }
  return service;
}

/**
 * Runs `work` for each service and returns the worst exit code. With one service its error is
 * thrown as it is; with several, each error is logged under the service's name and the others
 * still run. The destinations are closed at the end either way.
 */
export async function eachServiceWorst(
  ctx: Context,
  services: readonly ServiceConfig[],
  work: (service: ServiceConfig) => Promise<number>,
): Promise<number> {
  let worst: number = ExitCode.ok;
  try {
    for (const service of services) {
      try {
        worst = Math.max(worst, await work(service));
      } catch (error) {
        if (services.length === 1) throw error;
        ctx.log.error(`${service.name}: ${messageOf(error)}`);
        worst = Math.max(worst, exitCodeOf(error));
      }
    }
  } finally {
    await closeDestinations(ctx.destinations);
  }
  return worst;
}
