/**
 * A service's containers stopped around a piece of work (archiving, restoring): stopped in
 * order, only those running, and started again in reverse in a `finally` — on success, on
 * errors and on interrupts — then waited for until running and, with a healthcheck, healthy.
 *
 * Each container is noted in the run record before it is stopped and cleared once it runs
 * again, so that if this process dies in between, the next run starts it (state/recover.ts).
 *
 * @module
 */
import type { DockerConfig } from "../config/types.ts";
import { messageOf, PackratError } from "../errors.ts";
import type { Journal } from "../state/lock.ts";
import type { Logger } from "../ui/log.ts";
import { DockerClient } from "./client.ts";

/** Some container did not come back after the work; the service may be down. */
export class ContainerRestartError extends PackratError {}

export interface StopStartOptions {
  readonly docker: DockerConfig;
  readonly service: string;
  readonly log: Logger;
  readonly journal: Journal;
}

/**
 * Runs `work` with the containers stopped. When `work` succeeds, returns its value and, if a
 * container did not come back, that error — for the caller to report once it has finished
 * what the value is for (a good archive is still uploaded). When `work` fails, throws its
 * error, naming containers that did not come back as well.
 */
export async function withContainersStopped<T>(
  options: StopStartOptions,
  work: () => Promise<T>,
): Promise<{ value: T; restartError?: ContainerRestartError }> {
  const { docker, service, log, journal } = options;
  using client = new DockerClient();
  const stopped: string[] = [];
  let result: { value: T } | { error: unknown };
  try {
    for (const name of docker.containers) {
      const info = await client.inspect(name);
      if (!info.running) {
        log.info(`${service}: container ${name} is ${info.status}; leaving it so`);
        continue;
      }
      log.info(`${service}: stopping container ${name}`);
      journal.add("containers", name);
      stopped.push(name);
      await client.stop(name, docker.stopTimeoutMs);
    }
    result = { value: await work() };
  } catch (error) {
    result = { error };
  }
  const failures = await startAgain(client, stopped, options);
  const restartError = failures.length === 0 ? undefined : new ContainerRestartError(
    `${service}: ${failures.join("; ")}${
      "error" in result ? ` (the work had also failed: ${messageOf(result.error)})` : ""
    }. Check the container now: the service may be down`,
  );
  if ("error" in result) throw restartError ?? result.error;
  return { value: result.value, restartError };
}

/** Starts the containers again, in reverse order; returns what went wrong, per container. */
export async function startAgain(
  client: DockerClient,
  stopped: readonly string[],
  options: StopStartOptions,
): Promise<string[]> {
  const { docker, service, log, journal } = options;
  const failures: string[] = [];
  for (const name of [...stopped].reverse()) {
    try {
      await client.start(name);
      // Running again: whatever its health, it is no longer one we left stopped.
      journal.remove("containers", name);
      const info = await client.waitHealthy(name, docker.healthTimeoutMs);
      log.info(
        `${service}: container ${name} is running${
          info.health === "healthy" ? " and healthy" : ""
        }`,
      );
    } catch (error) {
      log.error(`${service}: container ${name} did not come back: ${messageOf(error)}`);
      failures.push(`container ${name} did not come back: ${messageOf(error)}`);
    }
  }
  return failures;
}
