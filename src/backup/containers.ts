/**
 * Phase "stop/start": the service's containers are stopped (in order, only those running)
 * while the archive is written, and started again (in reverse) in a `finally` — on success,
 * on errors and on interrupts — then waited for until running and, with a healthcheck,
 * healthy. A container that does not come back fails the run loudly.
 *
 * @module
 */
import type { DockerConfig } from "../config/types.ts";
import { DockerClient } from "../docker/client.ts";
import { PackratError } from "../errors.ts";
import type { Logger } from "../ui/log.ts";

export class ContainerRestartError extends PackratError {}

export async function withContainersStopped<T>(
  options: { docker: DockerConfig; service: string; log: Logger },
  work: () => Promise<T>,
): Promise<T> {
  const { docker, service, log } = options;
  using client = new DockerClient();
  const stopped: string[] = [];
  let result: { value: T } | { error: unknown } | undefined;
  try {
    for (const name of docker.containers) {
      const info = await client.inspect(name);
      if (!info.running) {
        log.info(`${service}: container ${name} is ${info.status}; leaving it so`);
        continue;
      }
      log.info(`${service}: stopping container ${name}`);
      stopped.push(name);
      await client.stop(name, docker.stopTimeoutMs);
    }
    result = { value: await work() };
  } catch (error) {
    result = { error };
  }
  const failures = await startAgain(client, stopped, docker, service, log);
  if (failures.length > 0) {
    const cause = "error" in result
      ? ` (the backup had also failed: ${errorText(result.error)})`
      : "";
    throw new ContainerRestartError(
      `${service}: ${
        failures.join("; ")
      }${cause}. Check the container now: the service may be down`,
    );
  }
  if ("error" in result) throw result.error;
  return result.value;
}

async function startAgain(
  client: DockerClient,
  stopped: string[],
  docker: DockerConfig,
  service: string,
  log: Logger,
): Promise<string[]> {
  const failures: string[] = [];
  for (const name of [...stopped].reverse()) {
    try {
      await client.start(name);
      const info = await client.waitHealthy(name, docker.healthTimeoutMs);
      log.info(
        `${service}: container ${name} is running${
          info.health === "healthy" ? " and healthy" : ""
        }`,
      );
    } catch (error) {
      log.error(`${service}: container ${name} did not come back: ${errorText(error)}`);
      failures.push(`container ${name} did not come back: ${errorText(error)}`);
    }
  }
  return failures;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
