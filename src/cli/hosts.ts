/**
 * `packrat hosts [--json]`: every host found on every destination, its services with their
 * newest backup and age, and its total size — the view of machines sharing a bucket or NAS.
 *
 * @module
 */
import type { Command } from "commander";
import { type HostSummary, listFleet, summarizeHosts } from "../catalog/fleet.ts";
import { closeDestinations } from "../destinations/index.ts";
import { formatBytes } from "../io/files.ts";
import { formatAgo, formatLocalTime } from "../ui/time.ts";
import { type Cli, openContext } from "./context.ts";
import { formatColumns } from "./list.ts";
import { keepOnly } from "./permissions.ts";

export function registerHosts(program: Command, cli: Cli): void {
  program
    .command("hosts")
    .description("every host on the destinations: its services, newest backups and size")
    .option("--json", "print a JSON array")
    .action(async (options: { json?: boolean }) => {
      keepOnly("net");
      const ctx = await openContext(cli.global());
      let hosts: HostSummary[];
      try {
        const { rows } = await listFleet(ctx.destinations, ctx.log);
        hosts = summarizeHosts(
          rows,
          ctx.config.backup.host,
          ctx.config.services.map((s) => s.name),
          ctx.destinations.map((d) => d.name),
        );
      } finally {
        await closeDestinations(ctx.destinations);
      }
      if (options.json) console.log(JSON.stringify(hosts.map(hostJson), null, 2));
      else printHosts(hosts, ctx.config.backup.host);
    });
}

/** A host as `hosts --json` prints it; fields are only ever added. */
function hostJson(h: HostSummary) {
  return {
    host: h.host,
    services: h.services.map((s) => ({
      service: s.service,
      newest: s.newest
        ? { id: s.newest.id, time: s.newest.time.toISOString(), size: s.newest.size }
        : null,
      backups: s.backups,
      in_config: s.inConfig,
      destinations: s.destinations,
    })),
    size: h.size,
  };
}

/**
 * Per host a line with its size, then its services: the newest backup's local time, age and
 * size, how many backups there are and where. Columns line up across hosts.
 */
function printHosts(hosts: HostSummary[], thisHost: string): void {
  const now = new Date();
  const heading = ["SERVICE", "NEWEST", "AGE", "SIZE", "BACKUPS", "STORED ON", "ID"];
  const rows = hosts.map((h) =>
    h.services.map((s) => {
      const note = s.inConfig ? "" : "  (not in config)";
      return s.newest
        ? [
          s.service,
          formatLocalTime(s.newest.time),
          formatAgo(s.newest.time, now),
          formatBytes(s.newest.size),
          String(s.backups),
          s.destinations.join(", "),
          `${s.newest.id}${note}`,
        ]
        : [s.service, "–", "no backups yet", "–", "0", "–", note.trim()];
    })
  );
  const [header, ...lines] = formatColumns([heading, ...rows.flat()], [3, 4]);
  hosts.forEach((h, i) => {
    const services = `${h.services.length} service${h.services.length === 1 ? "" : "s"}`;
    if (i > 0) console.log();
    console.log(
      `${h.host}${h.host === thisHost ? " (this host)" : ""}: ${services}, ${formatBytes(h.size)}`,
    );
    console.log(`  ${header}`);
    for (const line of lines.splice(0, rows[i].length)) console.log(`  ${line}`);
  });
}
