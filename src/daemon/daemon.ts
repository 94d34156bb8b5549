/**
 * `packrat daemon`: runs every scheduled service at its times, one run per service at a time
 * and at most `backup.concurrency` at once, catches up what was missed while it was down,
 * retries failures, tells someone when a service has gone quiet, and stops cleanly.
 *
 * In memory it keeps only each service's next time and pending retry; what happened is in the
 * state directory (history, locks and run records), shared with the CLI.
 *
 * @module
 */
import { attemptBackup } from "../backup/attempt.ts";
import { loadConfig } from "../config/load.ts";
import type { Config, ServiceConfig } from "../config/types.ts";
import { type MasterKey, readKeyFile } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { closeDestinations, openDestinations } from "../destinations/index.ts";
import { InterruptedError, LockedError, messageOf, PackratError } from "../errors.ts";
import { notifierFor } from "../notify/notify.ts";
import { stateDirectory } from "../state/directory.ts";
import {
  attemptFinished,
  findHistory,
  freshHistory,
  hasHistory,
  readHistory,
  type ServiceHistory,
  type Trigger,
  updateHistory,
  writeHistory,
} from "../state/history.ts";
import { StateLock } from "../state/lock.ts";
import { recoverDeadRuns } from "../state/recover.ts";
import { collectStates, isOverdue, lastSuccessOf, refreshMetrics } from "../status/collect.ts";
import type { Logger } from "../ui/log.ts";
import { backupProgress, progressBoard, transfers } from "../ui/progress.ts";
import { formatLocal, type Schedule, scheduleOf, verifyScheduleOf } from "./schedule.ts";
import type { BackupRow } from "../catalog/catalog.ts";
import { failuresOf, verifyService } from "../verify/run.ts";
import { copyKey, repairService } from "../verify/repair.ts";

/** Longest sleep between two looks at the clock: it may jump (suspend, NTP, a manual change). */
const MAX_SLEEP_MS = 60_000;
/** How long a stop waits for running backups to clean up; systemd kills at 90 s. */
const STOP_GRACE_MS = 75_000;
/** How long before a stale notification that could not be sent is tried again. */
const STALE_RETRY_MS = 10 * 60_000;

/** The loaded configuration and key; replaced as a whole by a reload. */
interface Setup {
  readonly config: Config;
  readonly master: MasterKey;
  readonly stateDir: string;
  readonly schedules: ReadonlyMap<string, Schedule>;
  /** Services with a `verify.schedule`. */
  readonly verifySchedules: ReadonlyMap<string, Schedule>;
}

/** What a queued run does. */
type Job = "backup" | "verify";

/** How long a verify that found the service busy (a backup by hand) waits to try again. */
const VERIFY_BUSY_RETRY_MS = 5 * 60_000;

/** A run waiting for a free slot. */
interface Due {
  readonly service: string;
  readonly job: Job;
  /** The time it was due: the queue runs in this order. */
  readonly at: Date;
  readonly trigger: Trigger;
  /** 1 for the first try of a scheduled time, 2 for its first retry, … */
  readonly attempt: number;
}

/** Per service: its next scheduled time and a pending retry, for backups and for verifies. */
interface Timing {
  next?: Date;
  retry?: { at: Date; attempt: number };
  expression?: string;
  timeZone?: string;
  verify: { next?: Date; retryAt?: Date; expression?: string; timeZone?: string };
}

export interface DaemonOptions {
  readonly configPath?: string;
  readonly log: Logger;
}

/**
 * Runs until SIGTERM or SIGINT, then returns the exit code (0 after a clean stop). Throws only
 * when it cannot start: bad config or key, or another daemon running.
 */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const { log } = options;
  let setup = await load(options.configPath);
  const daemonLock = StateLock.try(setup.stateDir, "@daemon", "daemon");
  if (!daemonLock) {
    throw new PackratError(
      `another packrat daemon is running with the state directory ${setup.stateDir}`,
    );
  }
  const stop = new AbortController();
  const wake = new Waker();
  const timings = new Map<string, Timing>();
  const queue: Due[] = [];
  /** Per service running now: what it is doing, and the run. */
  const running = new Map<string, { job: Job; work: Promise<void> }>();
  /** Stale notifications being sent; a stop waits for them as for runs. */
  const notifying = new Set<Promise<void>>();
  const staleSending = new Set<string>();
  /** When a stale notification last failed to go out, per service. */
  const staleFailed = new Map<string, number>();

  const onStop = (signal: Deno.Signal) => () => {
    if (stop.signal.aborted) return;
    log.info(`${signal}: stopping; no new runs${running.size ? ", cleaning up running ones" : ""}`);
    stop.abort(new InterruptedError(signal, "the daemon is stopping"));
    wake.wake();
  };
  // A SIGHUP during a reload is not lost: the file may have changed again since it was read.
  let reload: Promise<void> | undefined;
  let reloadAgain = false;
  const onReload = () => {
    if (stop.signal.aborted) return;
    if (reload) {
      reloadAgain = true;
      return;
    }
    reload = reloadSetup().finally(() => {
      reload = undefined;
      wake.wake();
      if (reloadAgain) {
        reloadAgain = false;
        onReload();
      }
    });
  };
  const reloadSetup = async () => {
    let next: Setup;
    try {
      next = await load(options.configPath);
    } catch (error) {
      log.error(`SIGHUP: ${messageOf(error)}; keeping the configuration loaded before`);
      return;
    }
    if (next.stateDir !== setup.stateDir) {
      log.error(
        `SIGHUP: the state directory changed (${setup.stateDir} → ${next.stateDir}); ` +
          `restart the daemon to move it; keeping the configuration loaded before`,
      );
      return;
    }
    setup = next;
    const now = new Date();
    planTimes(setup, timings, now, log);
    log.info(`SIGHUP: reloaded ${setup.config.file}`);
    await startHistories(setup, now, log);
    await refreshMetrics(setup.config, setup.stateDir, log);
  };
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGTERM", onStop("SIGTERM")],
    ["SIGINT", onStop("SIGINT")],
    ["SIGHUP", onReload],
  ];
  for (const [name, handler] of handlers) Deno.addSignalListener(name, handler);

  try {
    log.info(`packrat daemon started (pid ${Deno.pid}), state in ${setup.stateDir}`);
    await recoverDeadRuns({ ...setup, log });
    await settleDeadAttempts(setup, log);
    const now = new Date();
    planTimes(setup, timings, now, log);
    const missed = await catchUps(setup, now, log, "backup");
    for (const due of missed) enqueue(due);
    const missedVerifies = await catchUps(setup, now, log, "verify");
    for (const due of missedVerifies) enqueue(due);
    await startHistories(setup, now, log);
    await refreshMetrics(setup.config, setup.stateDir, log);
    log.info(
      `ready: ${setup.schedules.size} scheduled service${
        setup.schedules.size === 1 ? "" : "s"
      }, ${missed.length} to catch up${
        setup.verifySchedules.size
          ? `; ${setup.verifySchedules.size} scheduled verif${
            setup.verifySchedules.size === 1 ? "y" : "ies"
          }, ${missedVerifies.length} to catch up`
          : ""
      }`,
    );

    while (!stop.signal.aborted) {
      const now = new Date();
      for (const due of dueRuns(setup, timings, now, log)) enqueue(due);
      startQueued();
      await checkStale(now);
      const wakeAt = earliest(timings);
      const sleep = wakeAt ? Math.max(0, wakeAt.getTime() - Date.now()) : MAX_SLEEP_MS;
      await wake.wait(Math.min(sleep, MAX_SLEEP_MS));
    }
    return await drain([...[...running.values()].map((r) => r.work), ...notifying], log);
  } finally {
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    daemonLock.release();
  }

  /**
   * Tells once when a scheduled service has had no backup for twice its interval. Sending runs
   * beside the loop; only a notification that went out counts (a failed one is tried again
   * after STALE_RETRY_MS).
   */
  async function checkStale(now: Date): Promise<void> {
    const states = await collectStates(setup.config, setup.stateDir, now);
    for (const state of states) {
      const { service, history } = state;
      if (
        running.has(service.name) || state.problem || history.staleNotified ||
        staleSending.has(service.name) || !isOverdue(state, now, lastSuccessOf(state))
      ) continue;
      const failedAt = staleFailed.get(service.name);
      if (failedAt !== undefined && now.getTime() - failedAt < STALE_RETRY_MS) continue;
      const since = history.lastSuccess ? `since ${history.lastSuccess.time}` : "yet";
      const error = `no successful backup ${since}; it is scheduled "${service.schedule}"`;
      if (failedAt === undefined) log.error(`${service.name}: ${error}`);
      staleSending.add(service.name);
      const sending: Promise<void> = notifierFor(service.notify, log).finished({
        service: service.name,
        host: setup.config.backup.host,
        status: "stale",
        error,
        sizes: {},
        time: now,
      }).then(async (delivered) => {
        if (!delivered) {
          staleFailed.set(service.name, Date.now());
          return;
        }
        staleFailed.delete(service.name);
        await updateHistory(setup.stateDir, service.name, (h) => ({
          ...h,
          staleNotified: now.toISOString(),
        }));
      }).catch((e) => log.error(`${service.name}: ${messageOf(e)}`)).finally(() => {
        staleSending.delete(service.name);
        notifying.delete(sending);
      });
      notifying.add(sending);
    }
  }

  function enqueue(due: Due): void {
    const busy = running.get(due.service)?.job === due.job;
    if (busy || queue.some((q) => q.service === due.service && q.job === due.job)) {
      const what = due.job === "verify" ? "verify" : "run";
      log.info(
        `${due.service}: skipping the ${what} due ${due.at.toISOString()}: ` +
          `the previous one is still ${busy ? "running" : "waiting"}`,
      );
      return;
    }
    queue.push(due);
    // Same time: a backup before a verify, which then reads the new backup.
    queue.sort((a, b) =>
      a.at.getTime() - b.at.getTime() || (a.job === b.job ? 0 : a.job === "backup" ? -1 : 1)
    );
  }

  /**
   * Starts queued runs, in order, while slots are free; one run per service at a time. Backups
   * share `backup.concurrency` slots; verifies (and the repairs after them) run one at a time
   * beside them, so a long verify never holds up another service's backup.
   */
  function startQueued(): void {
    const busy = (job: Job) => [...running.values()].filter((r) => r.job === job).length;
    for (let i = 0; i < queue.length;) {
      const due = queue[i];
      const full = due.job === "verify"
        ? busy("verify") >= 1
        : busy("backup") >= setup.config.backup.concurrency;
      if (running.has(due.service) || full) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      const service = setup.config.services.find((s) => s.name === due.service);
      if (!service) continue; // Removed by a reload.
      const work = due.job === "verify"
        ? verifyOne(setup, service, due)
        : runOne(setup, service, due);
      const run = work.finally(() => {
        running.delete(due.service);
        wake.wake();
      });
      running.set(due.service, { job: due.job, work: run });
    }
  }

  /** One scheduled verify, and the repair after it when `verify.repair` asks for one. */
  async function verifyOne(setup: Setup, service: ServiceConfig, due: Due): Promise<void> {
    const label = due.trigger === "schedule" ? "scheduled" : due.trigger;
    log.info(`${service.name}: starting ${label} verify`);
    let destinations: Destination[] = [];
    try {
      destinations = await openDestinations(setup.config, (m) => log.warn(m));
      const board = progressBoard(log, { plain: true });
      const transfer = transfers();
      const ctx = {
        ...setup,
        destinations,
        log,
        signal: stop.signal,
        onProgress: (row: BackupRow, destination: string, read: number) =>
          board.update([
            `${service.name}: verifying ${row.id} on ${destination}  ${
              transfer(`${row.id}:${destination}`, read, row.size)
            }`,
          ]),
      };
      let report;
      try {
        report = await verifyService(ctx, service, { trigger: due.trigger, lowPriority: true });
      } finally {
        board.done();
      }
      const failures = failuresOf(report);
      const intact = report.results.filter((r) => r.status === "intact").length;
      if (report.backups === 0) log.info(`${service.name}: verify: no backups yet`);
      else if (failures.length === 0) {
        log.info(
          `${service.name}: verify passed: ${intact} cop${
            intact === 1 ? "y" : "ies"
          } of ${report.backups} backup${report.backups === 1 ? "" : "s"} read back intact`,
        );
      } else for (const failure of failures) log.error(`${service.name}: verify: ${failure}`);
      const damaged = report.results.filter((r) => r.status === "damaged");
      if (service.verify.repair && (damaged.length > 0 || report.missing.length > 0)) {
        log.info(`${service.name}: repairing (verify.repair is set)`);
        const repaired = await repairService(ctx, service, {
          knownDamaged: new Set(damaged.map((r) => copyKey(r.id, r.destination))),
          read: { lowPriority: true, maxBytesPerSecond: service.verify.maxBytesPerSecond },
        });
        for (const copy of repaired.made) {
          log.info(
            `${service.name}: repair: ${
              copy.replaced ? "replaced the damaged copy of" : "copied"
            } ${copy.id} ${copy.replaced ? "on" : "to"} ${copy.destination} from ${copy.from}`,
          );
        }
        for (const copy of repaired.failed) {
          log.error(
            `${service.name}: repair: could not store ${copy.id} on ${copy.destination}: ${copy.error}`,
          );
        }
        for (const { id, why } of repaired.lost) {
          log.error(
            `${service.name}: repair: backup ${id} has no intact copy (${why}); left as it is`,
          );
        }
      }
    } catch (error) {
      if (error instanceof InterruptedError || stop.signal.aborted) {
        log.warn(`${service.name}: verify: ${messageOf(error)}`);
        return;
      }
      if (error instanceof LockedError) {
        const timing = timings.get(service.name);
        const at = new Date(Date.now() + VERIFY_BUSY_RETRY_MS);
        if (timing && (!timing.verify.next || at < timing.verify.next)) {
          timing.verify.retryAt = at;
          log.warn(
            `${service.name}: verify not started: ${
              messageOf(error)
            }; trying again at ${at.toISOString()}`,
          );
        } else log.warn(`${service.name}: verify not started: ${messageOf(error)}`);
      } else log.error(`${service.name}: verify failed: ${messageOf(error)}`);
    } finally {
      await closeDestinations(destinations);
    }
  }

  /** One run, and what follows from its end: a retry, or nothing. */
  async function runOne(setup: Setup, service: ServiceConfig, due: Due): Promise<void> {
    const label = due.trigger === "schedule" ? "scheduled" : due.trigger;
    log.info(`${service.name}: starting ${label} backup${retryNote(due)}`);
    let destinations: Destination[] = [];
    try {
      destinations = await openDestinations(setup.config, (m) => log.warn(m));
      // Several runs may share the terminal: plain lines, at most one every 30 s per run.
      const progress = backupProgress(progressBoard(log, { plain: true }));
      const report = await attemptBackup(
        { ...setup, destinations, log, signal: stop.signal, ...progress },
        service,
        { trigger: due.trigger, retry: () => planRetry(setup, timings, due, new Date(), log) },
      );
      // Upload and container failures were logged as they happened.
      const stored = report.results.filter((r) => r.ok).map((r) => r.destination);
      if (report.postBackupError) {
        const note = stored.length ? " (the backup itself is stored)" : "";
        log.error(`${service.name}: ${report.postBackupError}${note}`);
      }
      if (stored.length === 0) log.error(`${service.name}: no destination stored the backup`);
      else log.info(`${service.name}: backup ${report.id} stored on ${stored.join(", ")}`);
    } catch (error) {
      if (error instanceof InterruptedError || stop.signal.aborted) {
        log.warn(`${service.name}: ${messageOf(error)}`);
        return;
      }
      // Most errors already name the service.
      const message = messageOf(error);
      const failure = message.startsWith(`${service.name}: `)
        ? message.slice(service.name.length + 2)
        : message;
      if (error instanceof LockedError) {
        log.warn(`${service.name}: not started: ${failure}`);
        planRetry(setup, timings, due, new Date(), log);
      } else log.error(`${service.name}: backup failed: ${failure}`);
    } finally {
      await closeDestinations(destinations);
    }
  }
}

function retryNote(due: Due): string {
  return due.attempt > 1 ? ` (try ${due.attempt})` : "";
}

async function load(configPath: string | undefined): Promise<Setup> {
  const config = await loadConfig({ path: configPath });
  const master = await readKeyFile(config.encryption.keyFile);
  const schedules = new Map<string, Schedule>();
  const verifySchedules = new Map<string, Schedule>();
  for (const service of config.services) {
    const schedule = scheduleOf(service);
    if (schedule) schedules.set(service.name, schedule);
    const verify = verifyScheduleOf(service);
    if (verify) verifySchedules.set(service.name, verify);
  }
  return {
    config,
    master,
    stateDir: stateDirectory(config.backup.stateDir),
    schedules,
    verifySchedules,
  };
}

/**
 * Sets each service's next time. A service whose schedule is unchanged keeps its time (a reload
 * neither skips nor repeats a run); new and changed ones count from `now`.
 */
function planTimes(setup: Setup, timings: Map<string, Timing>, now: Date, log: Logger): void {
  for (const name of [...timings.keys()]) {
    if (!setup.config.services.some((s) => s.name === name)) timings.delete(name);
  }
  for (const service of setup.config.services) {
    const schedule = setup.schedules.get(service.name);
    const known = timings.get(service.name);
    const timing: Timing = known ?? { verify: {} };
    timings.set(service.name, timing);
    planVerify(setup.verifySchedules.get(service.name), service.name, timing, now, log);
    if (!schedule) {
      if (!known || timing.expression !== undefined) {
        log.info(`${service.name}: no schedule; runs only when started by hand`);
      }
      Object.assign(timing, { next: undefined, retry: undefined, expression: undefined });
      continue;
    }
    if (timing.expression === schedule.expression && timing.timeZone === schedule.timeZone) {
      continue;
    }
    timing.expression = schedule.expression;
    timing.timeZone = schedule.timeZone;
    timing.next = schedule.next(now);
    timing.retry = undefined;
    log.info(
      `${service.name}: "${schedule.expression}", next run ${
        timing.next ? formatLocal(timing.next, schedule.timeZone) : "never"
      }`,
    );
  }
}

/** Sets the service's next verify time, as `planTimes` does for backups. */
function planVerify(
  schedule: Schedule | undefined,
  name: string,
  timing: Timing,
  now: Date,
  log: Logger,
): void {
  const verify = timing.verify;
  if (!schedule) {
    Object.assign(verify, { next: undefined, retryAt: undefined, expression: undefined });
    return;
  }
  if (verify.expression === schedule.expression && verify.timeZone === schedule.timeZone) return;
  verify.expression = schedule.expression;
  verify.timeZone = schedule.timeZone;
  verify.next = schedule.next(now);
  verify.retryAt = undefined;
  log.info(
    `${name}: verify "${schedule.expression}", next ${
      verify.next ? formatLocal(verify.next, schedule.timeZone) : "never"
    }`,
  );
}

/** The runs whose time has come, with each service's next time moved on. */
function dueRuns(setup: Setup, timings: Map<string, Timing>, now: Date, log: Logger): Due[] {
  const due: Due[] = [];
  for (const [name, timing] of timings) {
    const verify = setup.verifySchedules.get(name);
    if (verify && timing.verify.next && timing.verify.next <= now) {
      due.push({
        service: name,
        job: "verify",
        at: timing.verify.next,
        trigger: "schedule",
        attempt: 1,
      });
      timing.verify.retryAt = undefined;
      timing.verify.next = verify.next(now);
      if (timing.verify.next) {
        log.info(`${name}: next verify ${formatLocal(timing.verify.next, verify.timeZone)}`);
      }
    } else if (timing.verify.retryAt && timing.verify.retryAt <= now) {
      due.push({
        service: name,
        job: "verify",
        at: timing.verify.retryAt,
        trigger: "retry",
        attempt: 2,
      });
      timing.verify.retryAt = undefined;
    }
    const schedule = setup.schedules.get(name);
    if (!schedule) continue;
    if (timing.next && timing.next <= now) {
      due.push({ service: name, job: "backup", at: timing.next, trigger: "schedule", attempt: 1 });
      timing.retry = undefined; // The new scheduled run replaces a pending retry.
      timing.next = schedule.next(now);
      if (timing.next) {
        log.info(`${name}: next run ${formatLocal(timing.next, schedule.timeZone)}`);
      }
    } else if (timing.retry && timing.retry.at <= now) {
      due.push({ service: name, job: "backup", trigger: "retry", ...timing.retry });
      timing.retry = undefined;
    }
  }
  return due;
}

/**
 * After a failed run: plans another try after the configured wait, unless the next scheduled
 * run comes first or the tries are used up. Returns when it will be, if at all.
 */
function planRetry(
  setup: Setup,
  timings: Map<string, Timing>,
  due: Due,
  now: Date,
  log: Logger,
): Date | undefined {
  const timing = timings.get(due.service);
  if (!timing) return undefined; // Removed by a reload.
  const waits = setup.config.backup.retryAfterMs;
  if (due.attempt > waits.length) {
    if (waits.length > 0) log.error(`${due.service}: giving up after ${due.attempt} tries`);
    return undefined;
  }
  const at = new Date(now.getTime() + waits[due.attempt - 1]);
  if (timing.next && at >= timing.next) {
    log.info(`${due.service}: no retry; the next scheduled run comes first`);
    return undefined;
  }
  timing.retry = { at, attempt: due.attempt + 1 };
  log.info(`${due.service}: will try again at ${at.toISOString()}`);
  return at;
}

function earliest(timings: Map<string, Timing>): Date | undefined {
  let first: Date | undefined;
  for (const timing of timings.values()) {
    for (const at of [timing.next, timing.retry?.at, timing.verify.next, timing.verify.retryAt]) {
      if (at && (!first || at < first)) first = at;
    }
  }
  return first;
}

/**
 * Like systemd's `Persistent=true`: a scheduled time that passed while no run happened (the
 * daemon was down, or its run was interrupted) is run once, now. A service seen for the first
 * time is not caught up; it starts its history here. Verifies likewise; a verify schedule that
 * never ran starts with its next time.
 */
async function catchUps(setup: Setup, now: Date, log: Logger, job: Job): Promise<Due[]> {
  const schedules = job === "verify" ? setup.verifySchedules : setup.schedules;
  const due: Due[] = [];
  await eachService(setup, log, async (service) => {
    const schedule = schedules.get(service.name);
    if (!schedule || !service.catchUp) return;
    const history = await findHistory(setup.stateDir, service.name);
    const lastRun = history && lastRunOf(history, job);
    const missed = schedule.previous(now);
    if (!lastRun || !missed || missed <= lastRun) return;
    log.info(
      `${service.name}: the ${job === "verify" ? "verify" : "run"} due ${
        formatLocal(missed, schedule.timeZone)
      } did not happen; catching up now`,
    );
    due.push({ service: service.name, job, at: missed, trigger: "catch-up", attempt: 1 });
  });
  return due;
}

/** When the last run of `job` that counts started; undefined: nothing to catch up. */
function lastRunOf(history: ServiceHistory, job: Job): Date | undefined {
  if (job === "backup") return new Date(history.lastRunStarted ?? history.since);
  const last = history.verify?.lastRun;
  if (!last) return undefined;
  // An interrupted verify did not happen: the slot it was for is caught up.
  return new Date(last.outcome !== "interrupted" ? last.started : history.since);
}

/** Starts the history of services seen for the first time: the stale check counts from now. */
async function startHistories(setup: Setup, now: Date, log: Logger): Promise<void> {
  await eachService(setup, log, async (service) => {
    if (await hasHistory(setup.stateDir, service.name)) return;
    await writeHistory(setup.stateDir, freshHistory(service.name, now));
  });
}

/** Runs `work` for each service; a service's error is logged and does not stop the others. */
async function eachService(
  setup: Setup,
  log: Logger,
  work: (service: ServiceConfig) => Promise<void>,
): Promise<void> {
  for (const service of setup.config.services) {
    try {
      await work(service);
    } catch (error) {
      log.error(`${service.name}: ${messageOf(error)}`);
    }
  }
}

/** A history that says "running" while the service's lock is free: that run died. */
async function settleDeadAttempts(setup: Setup, log: Logger): Promise<void> {
  await eachService(setup, log, async (service) => {
    if (!await hasHistory(setup.stateDir, service.name)) return;
    const lock = StateLock.try(setup.stateDir, service.name, "daemon");
    if (!lock) return; // A run holds it: its history is its own.
    try {
      const history = await readHistory(setup.stateDir, service.name);
      const attempt = history.lastAttempt;
      if (attempt?.outcome !== "running") return;
      const error = `the run started ${attempt.started} (pid ${attempt.pid}) died before it ended`;
      log.warn(`${service.name}: ${error}`);
      await writeHistory(
        setup.stateDir,
        attemptFinished(history, { outcome: "interrupted", finished: new Date(), error }),
      );
    } finally {
      lock.release();
    }
  });
}

/**
 * Waits for the running backups to clean up after the stop (and notifications under way to
 * go out); 0 when they all did in time.
 */
async function drain(work: Promise<void>[], log: Logger): Promise<number> {
  if (work.length === 0) {
    log.info("stopped");
    return 0;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
  });
  const finished = Promise.allSettled(work).then(() => false);
  const late = await Promise.race([finished, timedOut]);
  clearTimeout(timer);
  if (late) {
    log.error(
      `stopping although runs did not finish cleaning up within ${STOP_GRACE_MS / 1000} s; ` +
        `the next start puts right what they left`,
    );
    return 1;
  }
  log.info("stopped");
  return 0;
}

/** A sleep that any event can cut short; an event while awake makes the next sleep return. */
class Waker {
  #wake?: () => void;
  #pending = false;

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#wake?.(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  wake(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }
}
