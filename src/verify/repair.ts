/**
 * `repair`: makes every configured destination hold an intact copy of every backup the
 * service keeps. A copy missing on a destination (it was down that night, or it was added
 * later) is copied there from one that holds it; a copy that fails verification is replaced.
 *
 * The source is always verified on the way: it is read through the staging directory while
 * being decrypted and unpacked in full, and only a staged file that verified is stored; each
 * stored copy is then read back and compared byte for byte (SHA-256). Nothing is ever deleted
 * but a new copy that did not read back right, so the last copy of a backup is never lost, and
 * a backup with no intact copy is reported and left as it is.
 *
 * @module
 */
import { createSHA256 } from "hash-wasm";
import { unpackArchive } from "../archive/unpack.ts";
import { type BackupRow, listBackups } from "../catalog/catalog.ts";
import type { ServiceConfig } from "../config/types.ts";
import type { Destination } from "../destinations/destination.ts";
import { messageOf, PackratError } from "../errors.ts";
import { counted, formatBytes, removeIfExists, writeAll } from "../io/files.ts";
import { PathGuard } from "../restore/extract.ts";
import {
  type CopyVerdict,
  paced,
  type ReadOptions,
  verdictOfError,
  verifyCopies,
} from "../restore/verify.ts";
import { idsToDelete } from "../retention/policy.ts";
import { type CheckedCopy, copiesChecked, updateHistory } from "../state/history.ts";
import { StateLock } from "../state/lock.ts";
import { refreshMetrics } from "../status/collect.ts";
import { type CopyResult, recordReport, resultOf, type VerifyContext } from "./run.ts";

/** One copy made (or, in a dry run, to be made). */
export interface CopyMade {
  readonly id: string;
  readonly destination: string;
  readonly from: string;
  /** It replaced a damaged copy. */
  readonly replaced: boolean;
  readonly size: number;
}

export interface RepairReport {
  /** Copies made; in a dry run, those that would be. */
  readonly made: readonly CopyMade[];
  /** Copies that could not be made, and why. */
  readonly failed: readonly (Omit<CopyMade, "size"> & { readonly error: string })[];
  /** Backups with no intact copy anywhere: nothing was changed for them. */
  readonly lost: readonly { readonly id: string; readonly why: string }[];
  /** Every copy read, and what it was found to be. */
  readonly checked: readonly CopyResult[];
  /** Backups looked at (those retention keeps). */
  readonly backups: number;
  /** Destinations that could not be listed: nothing was copied to them. */
  readonly unreachable: ReadonlyMap<string, string>;
  /** Every backup id stored, when every destination could be listed. */
  readonly stored?: ReadonlySet<string>;
}

export interface RepairOptions {
  /** Read and plan only: no staging file, nothing stored. */
  readonly dryRun?: boolean;
  /**
   * Copies already found damaged (`id@destination`) by a verify just before: then the other
   * copies are trusted and only read when they serve as the source. Without it, every copy of
   * every kept backup is read.
   */
  readonly knownDamaged?: ReadonlySet<string>;
  /** How the copies are read: the daemon's repair at low priority and `max_rate`. */
  readonly read?: ReadOptions;
  /** Bytes of `id` copied so far to `destination` (or read from it, when `phase` is "read"). */
  readonly onProgress?: (
    phase: "read" | "store",
    row: BackupRow,
    destination: string,
    bytes: number,
  ) => void;
}

/** The key of a copy in `knownDamaged`. */
export function copyKey(id: string, destination: string): string {
  return `${id}@${destination}`;
}

/** Repairs `service` under its lock (throws LockedError when a backup or verify holds it). */
export async function repairService(
  ctx: VerifyContext,
  service: ServiceConfig,
  options: RepairOptions = {},
): Promise<RepairReport> {
  const lock = StateLock.service(ctx.stateDir, service.name, "repair");
  try {
    const report = await repairLocked(ctx, service, options, lock);
    if (!options.dryRun) {
      const at = new Date();
      const made: CheckedCopy[] = options.dryRun ? [] : report.made.map((copy) => ({
        id: copy.id,
        destination: copy.destination,
        time: at.toISOString(),
        intact: true,
      }));
      await updateHistory(
        ctx.stateDir,
        service.name,
        (h) =>
          copiesChecked(
            recordReport(
              h,
              { results: report.checked, unreachable: report.unreachable },
              at,
              report.stored,
            ),
            made,
          ),
        (message) => ctx.log.warn(`${service.name}: ${message}`),
      );
      await refreshMetrics(ctx.config, ctx.stateDir, ctx.log);
    }
    return report;
  } finally {
    lock.release();
  }
}

async function repairLocked(
  ctx: VerifyContext,
  service: ServiceConfig,
  options: RepairOptions,
  lock: StateLock,
): Promise<RepairReport> {
  const host = ctx.config.backup.host;
  const { rows, unreachable } = await listBackups(ctx.destinations, host, service.name, ctx.log);
  // What retention would delete is not worth copying: the next backup deletes it again.
  const dropped = new Set(idsToDelete(rows.map((r) => r.id), service.retention));
  const kept = rows.filter((row) => !dropped.has(row.id));
  const made: CopyMade[] = [];
  const failed: (Omit<CopyMade, "size"> & { error: string })[] = [];
  const lost: { id: string; why: string }[] = [];
  const checked: CopyResult[] = [];

  for (const row of kept) {
    ctx.signal?.throwIfAborted();
    const holders = ctx.destinations.filter((d) => row.destinations.includes(d.name));
    const missing = ctx.destinations.filter((d) =>
      !row.destinations.includes(d.name) && !unreachable.has(d.name)
    );
    // What each holder's copy is: read now, or taken from the verify that came before.
    const found = new Map<string, CopyVerdict["status"] | "trusted">();
    if (options.knownDamaged) {
      for (const holder of holders) {
        const damaged = options.knownDamaged.has(copyKey(row.id, holder.name));
        found.set(holder.name, damaged ? "damaged" : "trusted");
      }
    } else {
      const verdicts = await readCopies(ctx, row, holders, options);
      for (const verdict of verdicts) {
        found.set(verdict.destination, verdict.status);
        checked.push(resultOf(row.id, verdict));
      }
    }
    const damaged = holders.filter((h) => found.get(h.name) === "damaged");
    const targets = [...missing, ...damaged];
    if (targets.length === 0) continue;

    // A source: an intact (or trusted) copy, verified again while it is staged.
    const candidates = holders.filter((h) => ["intact", "trusted"].includes(found.get(h.name)!));
    let staged: Staged | undefined;
    const tried: string[] = [];
    for (const candidate of candidates) {
      const attempt = options.dryRun
        ? await readOnly(ctx, row, candidate, found.get(candidate.name)!, options)
        : await stage(ctx, service, row, candidate, lock, options);
      if ("path" in attempt) {
        staged = attempt;
        if (found.get(candidate.name) === "trusted") {
          checked.push({ id: row.id, destination: candidate.name, status: "intact" });
        }
        break;
      }
      checked.push(resultOf(row.id, attempt));
      tried.push(`${candidate.name}: ${attempt.status}: ${resultOf(row.id, attempt).error}`);
      if (attempt.status === "damaged" && !damaged.includes(candidate)) {
        damaged.push(candidate);
        targets.push(candidate);
      }
    }
    if (!staged) {
      const problems = holders.filter((h) => !candidates.includes(h)).map((h) =>
        `${h.name}: ${found.get(h.name)}`
      );
      const why = [...problems, ...tried].join("; ") || "no destination holds it";
      // Only copies found damaged make a backup beyond repair; one that could not be read may
      // well be intact, and the next repair may reach it.
      const unreadable = holders.some((h) => found.get(h.name) === "unreachable") ||
        tried.some((t) => t.includes(": unreachable: "));
      if (unreadable && !holders.every((h) => damaged.includes(h))) {
        for (const target of targets) {
          failed.push({
            id: row.id,
            destination: target.name,
            from: "",
            replaced: damaged.includes(target),
            error: `no intact copy could be read to copy from (${why})`,
          });
        }
      } else lost.push({ id: row.id, why });
      continue;
    }
    try {
      for (const target of targets) {
        const replaced = damaged.includes(target);
        const copy = { id: row.id, destination: target.name, from: staged.from, replaced };
        if (options.dryRun) {
          made.push({ ...copy, size: row.size });
          continue;
        }
        try {
          await store(ctx, service, row, target, staged, replaced, options);
          made.push({ ...copy, size: staged.size });
        } catch (error) {
          ctx.signal?.throwIfAborted();
          failed.push({ ...copy, error: messageOf(error) });
        }
      }
    } finally {
      if (staged.path) {
        await removeIfExists(staged.path);
        lock.remove("paths", staged.path);
      }
    }
  }
  const stored = unreachable.size === 0 ? new Set(rows.map((r) => r.id)) : undefined;
  return { made, failed, lost, checked, backups: kept.length, unreachable, stored };
}

/** The staging directory failed (full, say): not a verdict on any copy, so it stops the repair. */
class StagingError extends PackratError {}

/** A verified copy in the staging directory. */
interface Staged {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly from: string;
}

/** Verifies every one of `sources`' copies of `row` in full. */
function readCopies(
  ctx: VerifyContext,
  row: BackupRow,
  sources: readonly Destination[],
  options: RepairOptions,
): Promise<CopyVerdict[]> {
  return verifyCopies({
    sources,
    host: ctx.config.backup.host,
    row,
    master: ctx.master,
    all: true,
    ...options.read,
    signal: ctx.signal,
    onProgress: (destination, read) => options.onProgress?.("read", row, destination, read),
  });
}

/** A dry run's source: an intact copy as it is, a trusted one once it has verified. */
async function readOnly(
  ctx: VerifyContext,
  row: BackupRow,
  source: Destination,
  found: CopyVerdict["status"] | "trusted",
  options: RepairOptions,
): Promise<Staged | CopyVerdict> {
  const staged = { path: "", size: row.size, sha256: "", from: source.name };
  if (found === "intact") return staged;
  const [verdict] = await readCopies(ctx, row, [source], options);
  return verdict.status === "intact" ? staged : verdict;
}

/**
 * Reads `source`'s copy into the staging directory while verifying it in full. Returns the
 * staged file, or the verdict on a copy that did not verify (its staged file removed).
 */
async function stage(
  ctx: VerifyContext,
  service: ServiceConfig,
  row: BackupRow,
  source: Destination,
  lock: StateLock,
  options: RepairOptions,
): Promise<Staged | CopyVerdict> {
  const host = ctx.config.backup.host;
  const dir = ctx.config.backup.stagingDir;
  const path = `${dir}/.packrat-repair-${service.name}-${row.id}-${
    crypto.randomUUID().slice(0, 8)
  }.packrat`;
  lock.add("paths", path);
  await Deno.mkdir(dir, { recursive: true });
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  const hash = await createSHA256();
  hash.init();
  let size = 0;
  let kept = false;
  try {
    const input = counted(
      paced(await source.open(host, row.service, row.id), { ...options.read, signal: ctx.signal }),
      (read) => options.onProgress?.("read", row, source.name, read),
    );
    const copying = new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        ctx.signal?.throwIfAborted();
        try {
          await writeAll(file, chunk);
        } catch (error) {
          throw new StagingError(`cannot write ${path}: ${messageOf(error)}`);
        }
        hash.update(chunk);
        size += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const label = `${source.name}:${row.id}`;
    const guard = new PathGuard(label);
    await unpackArchive(input.pipeThrough(copying), ctx.master, label, {
      entry(entry) {
        guard.check(entry);
        return undefined;
      },
    }, { lowPriority: options.read?.lowPriority });
    // (No comparison with the listed size: that is the first destination's, not this one's.
    // The decryption above already refused a copy cut short or with bytes after its end.)
    await file.sync();
    kept = true;
    return { path, size, sha256: hash.digest("hex"), from: source.name };
  } catch (error) {
    return verdictOfError(source.name, error);
  } finally {
    file.close();
    if (!kept) {
      await removeIfExists(path);
      lock.remove("paths", path);
    }
  }
}

/**
 * Stores the staged copy on `target` (over a damaged one when `replace`), then reads it back:
 * a copy that does not match what was sent is removed again, unless it replaced one.
 */
async function store(
  ctx: VerifyContext,
  service: ServiceConfig,
  row: BackupRow,
  target: Destination,
  staged: Staged,
  replace: boolean,
  options: RepairOptions,
): Promise<void> {
  const host = ctx.config.backup.host;
  ctx.log.info(
    `${service.name}: ${replace ? "replacing the damaged copy of" : "copying"} ${row.id} ` +
      `${replace ? "on" : "to"} ${target.name} from ${staged.from} (${formatBytes(staged.size)})`,
  );
  await target.put(
    host,
    row.service,
    row.id,
    staged.path,
    staged.size,
    ctx.signal,
    (sent) => options.onProgress?.("store", row, target.name, sent),
    { replace },
  );
  const hash = await createSHA256();
  hash.init();
  let size = 0;
  const reader = (await target.open(host, row.service, row.id)).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    size += value.length;
  }
  if (size !== staged.size || hash.digest("hex") !== staged.sha256) {
    if (!replace) await target.remove(host, row.service, row.id).catch(() => {});
    throw new Error(
      `the copy stored on ${target.name} does not read back as sent (${size} bytes)` +
        (replace ? "" : "; it was removed again"),
    );
  }
}
