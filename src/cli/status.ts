/** `packrat status [--json]`: how each service stands; non-zero when one is overdue. @module */
import type { Command } from "commander";
import { formatLocal, localTimeZone } from "../daemon/schedule.ts";
import { closeDestinations } from "../destinations/index.ts";
import { ExitCode } from "../errors.ts";
import { formatBytes } from "../io/files.ts";
import { type ServiceStatus, serviceStatuses } from "../status/status.ts";
import { formatAge } from "../ui/time.ts";
import { type Cli, openContext, serviceNamed } from "./context.ts";
import { keepOnly } from "./permissions.ts";

export function registerStatus(program: Command, cli: Cli): void {
  program
    .command("status")
    .description(
      "last success and failure, next run and newest backup per destination of each service; " +
        "exits 1 when a scheduled service has no backup younger than twice its interval, " +
        "or when a verify found a stored copy damaged",
    )
    .argument("[service]", "only this service")
    .option("--json", "print JSON")
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      keepOnly("net");
      const ctx = await openContext(cli.global());
      const now = new Date();
      let statuses: ServiceStatus[];
      try {
        statuses = await serviceStatuses(ctx.config, ctx.stateDir, ctx.destinations, now);
      } finally {
        await closeDestinations(ctx.destinations);
      }
      if (name) {
        statuses = statuses.filter((s) => s.service === serviceNamed(ctx.config, name).name);
      }
      const ok = statuses.every((s) => !s.overdue && !s.verify.damaged);
      if (options.json) console.log(JSON.stringify(toJson(statuses, ok, now), null, 2));
      else console.log(statuses.map((s) => describe(s, now)).join("\n\n"));
      cli.exitWith(ok ? ExitCode.ok : ExitCode.failure);
    });
}

function toJson(statuses: readonly ServiceStatus[], ok: boolean, now: Date) {
  const iso = (date: Date | undefined) => date?.toISOString() ?? null;
  const seconds = (ms: number | undefined) => ms === undefined ? null : ms / 1000;
  return {
    ok,
    time: now.toISOString(),
    services: statuses.map((s) => {
      const { lastSuccess, lastFailure, lastAttempt } = s.history;
      return {
        service: s.service,
        schedule: s.schedule ?? null,
        timezone: s.timeZone ?? null,
        next_run: iso(s.nextRun),
        interval_seconds: seconds(s.intervalMs),
        overdue: s.overdue,
        newest_backup: iso(s.newest),
        last_success: lastSuccess
          ? {
            id: lastSuccess.id,
            time: lastSuccess.time,
            age_seconds: seconds(now.getTime() - Date.parse(lastSuccess.time)),
            duration_seconds: seconds(lastSuccess.durationMs),
            sizes: lastSuccess.sizes,
          }
          : null,
        last_failure: lastFailure ?? null,
        last_attempt: lastAttempt
          ? {
            started: lastAttempt.started,
            finished: lastAttempt.finished ?? null,
            trigger: lastAttempt.trigger,
            outcome: lastAttempt.outcome,
            error: lastAttempt.error ?? null,
          }
          : null,
        consecutive_failures: s.history.consecutiveFailures,
        history_problem: s.problem ?? null,
        destinations: s.destinations.map((d) => ({
          name: d.name,
          backups: d.backups ?? null,
          newest: d.newest
            ? { id: d.newest.id, time: d.newest.time.toISOString(), size: d.newest.size }
            : null,
          error: d.error ?? null,
        })),
        verify: {
          schedule: s.verify.schedule ?? null,
          next_run: iso(s.verify.nextRun),
          last_run: s.verify.lastRun ?? null,
          damaged: s.verify.damaged,
          destinations: s.verify.destinations.map((d) => ({
            name: d.name,
            last_verified: d.time ?? null,
            error: d.error ?? null,
            damaged: d.damaged.map((c) => ({ id: c.id, time: c.time, error: c.error ?? null })),
          })),
        },
      };
    }),
  };
}

function describe(s: ServiceStatus, now: Date): string {
  const ago = (iso: string | Date) => formatAge(now.getTime() - new Date(iso).getTime());
  const { lastSuccess, lastFailure, lastAttempt } = s.history;
  const lines = [
    s.schedule
      ? `${s.service}  "${s.schedule}", next run ${
        s.nextRun ? formatLocal(s.nextRun, s.timeZone!) : "never"
      }`
      : `${s.service}  no schedule (manual only)`,
  ];
  const rows: [string, string][] = [];
  if (s.problem) rows.push(["history", s.problem]);
  if (lastAttempt?.outcome === "running") {
    rows.push(["running", `since ${ago(lastAttempt.started)} ago (${lastAttempt.trigger})`]);
  }
  rows.push([
    "last success",
    lastSuccess
      ? `${ago(lastSuccess.time)} ago, ${lastSuccess.id}, ${
        formatBytes(Math.max(0, ...Object.values(lastSuccess.sizes)))
      } on ${Object.keys(lastSuccess.sizes).join(", ")}`
      : "never",
  ]);
  if (lastFailure) {
    rows.push(["last failure", `${ago(lastFailure.time)} ago: ${lastFailure.error}`]);
  }
  if (s.history.consecutiveFailures > 1) {
    rows.push(["failing", `the last ${s.history.consecutiveFailures} runs failed`]);
  }
  for (const d of s.destinations) {
    const checked = s.verify.destinations.find((v) => v.name === d.name);
    const verified = checked?.time
      ? `; read back ${ago(checked.time)} ago${checked.error ? ` (failed: ${checked.error})` : ""}`
      : "";
    rows.push([
      d.name,
      (d.error !== undefined
        ? `unreachable: ${d.error}`
        : d.newest
        ? `${d.backups} backup${d.backups === 1 ? "" : "s"}, newest ${ago(d.newest.time)} ago (${
          formatBytes(d.newest.size)
        })`
        : "no backups") + verified,
    ]);
  }
  const verify = s.verify;
  if (verify.schedule || verify.lastRun) {
    const next = verify.schedule
      ? `"${verify.schedule}", next ${
        verify.nextRun ? formatLocal(verify.nextRun, s.timeZone ?? localTimeZone()) : "never"
      }`
      : "not scheduled";
    const last = verify.lastRun
      ? `; last ${verify.lastRun.outcome} ${ago(verify.lastRun.finished)} ago`
      : "; never run";
    rows.push(["verify", `${next}${last}`]);
  }
  for (const d of verify.destinations) {
    for (const copy of d.damaged) {
      rows.push([
        "DAMAGED",
        `${d.name}: backup ${copy.id} (found ${ago(copy.time)} ago): ${copy.error ?? "damaged"}; ` +
        `run \`packrat repair ${s.service}\``,
      ]);
    }
  }
  if (s.overdue) {
    rows.push([
      "OVERDUE",
      `no backup ${s.newest ? `for ${ago(s.newest)}` : "yet"}; expected at least every ${
        formatAge(s.intervalMs!)
      }`,
    ]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return [...lines, ...rows.map(([label, text]) => `  ${label.padEnd(width)}  ${text}`)].join(
    "\n",
  );
}
