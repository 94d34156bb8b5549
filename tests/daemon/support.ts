/** Helpers for daemon tests: a daemon per test, its log, and a history written beforehand. @module */
import { type ServiceHistory, writeHistory } from "../../src/state/history.ts";
import { pollWhileRunning, type Running, type Setup } from "../helpers.ts";

const DAY_MS = 86_400_000;

/** Starts `packrat daemon` for the setup, and waits until it has planned its runs. */
export async function startDaemon(s: Setup, env: Record<string, string> = {}): Promise<Running> {
  const run = s.start(["daemon"], { env });
  await pollWhileRunning(run, "the daemon to be ready", () => /ready: /.test(run.stderrSoFar()));
  return run;
}

/** The daemon's log lines so far that match `pattern`. */
export function linesOf(run: Running, pattern: RegExp): string[] {
  return run.stderrSoFar().split("\n").filter((line) => pattern.test(line));
}

/** Waits until the log has `count` lines matching `pattern`; returns them. */
export async function waitForLines(
  run: Running,
  pattern: RegExp,
  count = 1,
  timeoutMs = 30_000,
): Promise<string[]> {
  await pollWhileRunning(
    run,
    `${count} log line(s) matching ${pattern}`,
    () => linesOf(run, pattern).length >= count,
    timeoutMs,
  );
  return linesOf(run, pattern);
}

/** A history as if Packrat had known `service` for ten days and last ran it `daysAgo` days ago. */
export async function ranDaysAgo(s: Setup, service: string, daysAgo: number): Promise<void> {
  const now = Date.now();
  const last = new Date(now - daysAgo * DAY_MS).toISOString();
  const history: ServiceHistory = {
    service,
    since: new Date(now - 10 * DAY_MS).toISOString(),
    lastRunStarted: last,
    lastAttempt: {
      started: last,
      finished: last,
      trigger: "schedule",
      outcome: "succeeded",
      pid: 1,
    },
    lastSuccess: { id: "20000101T000000.000Z", time: last, durationMs: 1000, sizes: { local: 1 } },
    consecutiveFailures: 0,
  };
  await writeHistory(`${s.dir}/state`, history);
}

/** The service's history as the daemon wrote it. */
export async function historyOf(s: Setup, service: string): Promise<ServiceHistory> {
  return JSON.parse(await Deno.readTextFile(`${s.dir}/state/services/${service}.json`));
}
