/**
 * What a restore shows before it asks: the summary of one restore (what is replaced, where, how
 * much is there now), `--dry-run`'s list of changes, and `restore --all`'s plan.
 *
 * @module
 */
import type { BackupRow } from "../catalog/catalog.ts";
import type { ServiceConfig } from "../config/types.ts";
import { formatBytes } from "../io/files.ts";
import type { RestoreChanges } from "../restore/changes.ts";
import { formatAgo, formatLocalTime } from "./time.ts";

/** What the restore will do, before it is confirmed: what is replaced, where, how much. */
export async function describeRestore(options: {
  row: BackupRow;
  target: string;
  include: readonly string[];
  from?: string;
  containers: readonly string[];
}): Promise<string> {
  const { row, target, include, containers } = options;
  const now = await treeSize(target);
  const current = now === undefined
    ? "does not exist yet; it will be created"
    : now.entries === 0
    ? "empty now"
    : `now ${now.capped ? "over " : ""}${now.entries.toLocaleString("en-US")} ${
      now.entries === 1 ? "entry" : "entries"
    }, ${formatBytes(now.bytes)}${now.unreadable ? ", partly unreadable" : ""}`;
  const what = include.length
    ? `only paths matching ${include.join(", ")}; everything else stays`
    : "everything in it";
  const lines = [
    `Restore ${row.service} from backup ${row.id} (${formatLocalTime(row.time)}, ${
      formatAgo(row.time)
    })`,
    `  into        ${target} (${current})`,
    `  replaces    ${what}`,
    `  backup      ${formatBytes(row.size)} encrypted, read from ${options.from ?? "?"}${
      row.destinations.length > 1
        ? ` (also on ${row.destinations.filter((d) => d !== options.from).join(", ")})`
        : ""
    }`,
  ];
  if (containers.length) {
    lines.push(
      `  containers  ${containers.join(", ")} will be stopped during the restore and started again`,
    );
  }
  return lines.join("\n");
}

/** How many entries the summary counts at most: enough to say "a lot". */
const MAX_COUNTED = 100_000;

/**
 * Entries and bytes under `path` (undefined when it does not exist), counting at most
 * MAX_COUNTED entries; directories that cannot be read are noted, not fatal.
 */
async function treeSize(
  path: string,
): Promise<{ entries: number; bytes: number; capped: boolean; unreadable: boolean } | undefined> {
  const total = { entries: 0, bytes: 0, capped: false, unreadable: false };
  const walk = async (dir: string): Promise<void> => {
    let listing: AsyncIterable<Deno.DirEntry>;
    try {
      listing = Deno.readDir(dir);
      for await (const entry of listing) {
        if (total.entries >= MAX_COUNTED) {
          total.capped = true;
          return;
        }
        total.entries++;
        const child = `${dir}/${entry.name}`;
        if (entry.isDirectory) await walk(child);
        else if (entry.isFile) {
          total.bytes += (await Deno.lstat(child).catch(() => ({ size: 0 }))).size;
        }
      }
    } catch (error) {
      if (dir === path && error instanceof Deno.errors.NotFound) throw error;
      total.unreadable = true;
    }
  };
  try {
    await walk(path);
  } catch {
    return undefined;
  }
  return total;
}

/** `--dry-run`'s report: one line per path, `+` added, `~` replaced, `-` removed. */
export function describeChanges(changes: RestoreChanges): string {
  const lines = [
    `Would add ${changes.added.length}, replace ${changes.replaced.length}, remove ${changes.removed.length} (${changes.unchanged} unchanged); nothing was changed.`,
    ...changes.added.map((p) => `  + ${p}`),
    ...changes.replaced.map((p) => `  ~ ${p}`),
    ...changes.removed.map((p) => `  - ${p}`),
  ];
  return lines.join("\n");
}

/** One line of `restore --all`'s plan, as the table shows it. */
export interface PlanLine {
  readonly service: ServiceConfig;
  readonly row?: BackupRow;
  readonly from?: string;
  readonly target?: string;
  /** Containers stopped for the restore (it lands in the service's own data). */
  readonly stops?: readonly string[];
  readonly problem?: string;
}

/** The plan as a table: service, backup, age, size, source, target, containers to stop. */
export function describePlan(plan: readonly PlanLine[], host: string): string {
  const rows = [["SERVICE", "BACKUP", "AGE", "SIZE", "FROM", "INTO", "STOPS"]];
  for (const { service, row, from, target, stops, problem } of plan) {
    if (!row) {
      rows.push([service.name, "—", "", "", "", "", `not restored: ${problem}`]);
      continue;
    }
    rows.push([
      service.name,
      row.id,
      formatAgo(row.time),
      formatBytes(row.size),
      from ?? "?",
      target ?? "",
      (stops ?? []).join(", "),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return [
    `Restore plan for ${host}:`,
    ...rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()}`),
  ].join("\n");
}
