/**
 * Recovery after a crash (`kill -9`, OOM, power loss): what a dead run left behind, found in its
 * run record (lock.ts), is put right by the next run — of any service, and the daemon at start.
 *
 * - containers it stopped are started again (and waited for, as after a backup);
 * - its staging files and restore staging directories are removed (they may hold decrypted data);
 * - archives it was uploading stay noted in the service's record: only a run of that service
 *   opens the destinations, and it removes their partial files and multipart uploads
 *   (backup/clean_uploads.ts).
 *
 * A record is only touched while holding its lock, so a live run's record never is, and of two
 * runs recovering at once exactly one handles each record.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { DockerClient } from "../docker/client.ts";
import { startAgain } from "../docker/stop_start.ts";
import { messageOf } from "../errors.ts";
import { removeTree } from "../io/tree.ts";
import type { Logger } from "../ui/log.ts";
import { StateLock } from "./lock.ts";

/** How long recovery waits for a container that has no configured health timeout. */
const DEFAULT_HEALTH_TIMEOUT_MS = 2 * 60_000;

export interface RecoveryContext {
  readonly stateDir: string;
  readonly config: Config;
  readonly log: Logger;
}

/**
 * Puts right what dead runs left, in every record of the state directory whose lock is free.
 * `held` is a lock this process just took: its record holds what the previous holder left.
 */
export async function recoverDeadRuns(ctx: RecoveryContext, held?: StateLock): Promise<void> {
  for (const key of StateLock.recordedKeys(ctx.stateDir)) {
    if (key === held?.key) {
      await recoverRecord(held, ctx);
      continue;
    }
    const lock = StateLock.try(ctx.stateDir, key, "recovery");
    if (!lock) continue; // Its holder is alive and will clear its own record.
    try {
      await recoverRecord(lock, ctx);
    } finally {
      lock.release();
    }
  }
}

/** Starts the containers and removes the paths a dead holder of `lock` noted. */
async function recoverRecord(lock: StateLock, ctx: RecoveryContext): Promise<void> {
  const { containers, paths, holder } = lock.record;
  if (containers.length === 0 && paths.length === 0) return;
  const label = lock.key.startsWith("run-") ? "packrat" : lock.key;
  const who = holder ? `a ${holder.operation} (pid ${holder.pid}, ${holder.since})` : "a run";
  if (containers.length > 0) await startLeftStopped(lock, label, who, ctx);
  for (const path of [...paths]) {
    const problems = removeTree(path);
    if (problems.length === 0) {
      ctx.log.warn(`${label}: removed ${path}, left by ${who} that did not finish`);
      lock.remove("paths", path);
    } else {
      ctx.log.error(
        `${label}: cannot remove ${path}, left by ${who} that did not finish: ${problems[0]}`,
      );
    }
  }
}

async function startLeftStopped(
  lock: StateLock,
  label: string,
  who: string,
  ctx: RecoveryContext,
): Promise<void> {
  const containers = [...lock.record.containers];
  ctx.log.warn(
    `${label}: starting container${containers.length > 1 ? "s" : ""} ${
      containers.join(", ")
    }, left stopped by ${who} that did not finish`,
  );
  const configured = ctx.config.services.find((s) => s.name === lock.key)?.docker;
  const docker = {
    containers,
    stopTimeoutMs: configured?.stopTimeoutMs ?? 0,
    healthTimeoutMs: configured?.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS,
  };
  try {
    using client = new DockerClient();
    // A failure stays in the record, so the next run tries again.
    await startAgain(client, containers, { docker, service: label, log: ctx.log, journal: lock });
  } catch (error) {
    ctx.log.error(`${label}: cannot start ${containers.join(", ")}: ${messageOf(error)}`);
  }
}
