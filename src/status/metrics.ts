/**
 * Prometheus metrics for node_exporter's textfile collector: one `.prom` file describing the
 * last run, the backup sizes and the next run of every service.
 *
 * @example
 * ```ts
 * await writeMetricsFile("/var/lib/node_exporter/textfile/packrat.prom", [
 *   { service: "app", lastStatus: "succeeded", lastSuccess: new Date(), sizes: { local: 1024 } },
 * ]);
 * ```
 *
 * @module
 */
import { writeFileAtomic } from "../io/files.ts";

/** What the metrics file says about one service. */
export interface ServiceMetrics {
  readonly service: string;
  /** Time of the newest successful backup. */
  readonly lastSuccess?: Date;
  /** Outcome of the last finished run. */
  readonly lastStatus?: RunStatus;
  /** Duration of the last finished run. */
  readonly lastDurationMs?: number;
  /** Encrypted bytes of the last successful backup per destination ("local", "s3", "synology"). */
  readonly sizes: Readonly<Record<string, number>>;
  /** Absent for services without a schedule. */
  readonly nextRun?: Date;
  /**
   * Per destination: when a verify last read from it, and how many of its copies the last
   * checks found damaged (or, when the destination could not be read, 1).
   */
  readonly verify?: Readonly<Record<string, { readonly time: Date; readonly failures: number }>>;
}

/** How a run ended; `partial` means some destinations failed. */
export type RunStatus = "succeeded" | "failed" | "partial" | "interrupted";

/** The values of `packrat_last_run_status`; dashboards and alerts depend on them, never reorder. */
const STATUS_CODES: Readonly<Record<RunStatus, number>> = {
  succeeded: 0,
  failed: 1,
  partial: 2,
  interrupted: 3,
};

interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly samples: (service: ServiceMetrics) => Sample[];
}

const FAMILIES: readonly Family[] = [
  {
    name: "packrat_last_success_timestamp_seconds",
    help: "Unix time of the newest successful backup.",
    samples: (s) => known(s, seconds(s.lastSuccess)),
  },
  {
    name: "packrat_last_run_status",
    help: "Outcome of the last finished run: 0 succeeded, 1 failed, " +
      "2 partial (some destinations failed), 3 interrupted.",
    samples: (s) => known(s, s.lastStatus && STATUS_CODES[s.lastStatus]),
  },
  {
    name: "packrat_backup_size_bytes",
    help: "Encrypted size in bytes of the last successful backup on each destination.",
    samples: (s) =>
      Object.entries(s.sizes).map(([destination, value]) => ({
        labels: { service: s.service, destination },
        value,
      })),
  },
  {
    name: "packrat_backup_duration_seconds",
    help: "Duration in seconds of the last finished run.",
    samples: (s) => known(s, s.lastDurationMs === undefined ? undefined : s.lastDurationMs / 1000),
  },
  {
    name: "packrat_next_run_timestamp_seconds",
    help: "Unix time of the next scheduled run.",
    samples: (s) => known(s, seconds(s.nextRun)),
  },
  {
    name: "packrat_last_verify_timestamp_seconds",
    help: "Unix time a verify last read stored copies back from each destination.",
    samples: (s) =>
      Object.entries(s.verify ?? {}).map(([destination, v]) => ({
        labels: { service: s.service, destination },
        value: v.time.getTime() / 1000,
      })),
  },
  {
    name: "packrat_verify_failures",
    help: "Copies on each destination whose last verify found them damaged " +
      "(1 when the destination could not be read); 0 when all read back intact.",
    samples: (s) =>
      Object.entries(s.verify ?? {}).map(([destination, v]) => ({
        labels: { service: s.service, destination },
        value: v.failures,
      })),
  },
];

/**
 * Renders the metrics in the Prometheus text exposition format (version 0.0.4). A family
 * without any known value is left out; so is a service's sample whose value is unknown.
 */
export function renderMetrics(services: readonly ServiceMetrics[]): string {
  const lines: string[] = [];
  for (const family of FAMILIES) {
    const samples = services.flatMap(family.samples);
    if (samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`);
    for (const { labels, value } of samples) {
      const pairs = Object.entries(labels).map(([name, text]) => `${name}="${escapeLabel(text)}"`);
      lines.push(`${family.name}{${pairs.join(",")}} ${formatValue(value)}`);
    }
  }
  return lines.map((line) => `${line}\n`).join("");
}

/**
 * Writes the metrics file atomically: a hidden temp file in the same directory (mode 0644, so
 * node_exporter, running as another user, can read it), synced, then renamed over `path`. The
 * temp name starts with "." and does not end in ".prom", so the collector never reads it.
 */
export function writeMetricsFile(
  path: string,
  services: readonly ServiceMetrics[],
): Promise<void> {
  return writeFileAtomic(path, renderMetrics(services), 0o644);
}

function known(service: ServiceMetrics, value: number | undefined): Sample[] {
  return value === undefined || Number.isNaN(value)
    ? []
    : [{ labels: { service: service.service }, value }];
}

function seconds(date: Date | undefined): number | undefined {
  return date && date.getTime() / 1000;
}

function escapeLabel(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
