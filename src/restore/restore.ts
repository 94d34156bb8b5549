/**
 * Restore: extract a backup into a staging directory on the target's filesystem, and only once
 * the whole archive has been decrypted, authenticated and written, put it in place. A failed
 * or interrupted restore leaves the target as it was and removes the staging directory (it
 * holds decrypted data).
 *
 * Where the staging directory goes:
 * - the target exists: inside it, `<target>/.packrat-restore-<tag>`, then its contents are
 *   swapped or merged in (place.ts);
 * - the target does not exist yet: beside it, then renamed into place.
 *
 * @module
 */
import { unpackArchive } from "../archive/unpack.ts";
import type { TarEntry } from "../archive/tar.ts";
import type { BackupRow } from "../catalog/catalog.ts";
import type { MasterKey } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { messageOf, PackratError } from "../errors.ts";
import { counted } from "../io/files.ts";
import { lstatOrNone, removeTree } from "../io/tree.ts";
import type { Journal } from "../state/lock.ts";
import type { Logger } from "../ui/log.ts";
import { applyDirMetadata, deepestFirst, Extractor, type ExtractStats } from "./extract.ts";
import { readFromSources } from "./find.ts";
import { compileIncludes } from "./include.ts";
import { mergeContents, type Placed, stagingName, swapContents } from "./place.ts";
import { resolveTarget } from "./target.ts";

export interface RestoreOptions {
  readonly sources: readonly Destination[];
  readonly host: string;
  readonly row: BackupRow;
  readonly master: MasterKey;
  /** Directory to restore into (the service path, or `--target`); resolved with resolveTarget. */
  readonly target: string;
  /** `--include` globs: restore only matching paths, leaving everything else in place. */
  readonly include: readonly string[];
  readonly log: Logger;
  /** Notes the staging directory (decrypted data) so that a restore that dies leaves it to be removed. */
  readonly journal: Journal;
  /** Aborts the restore until the swap starts; from then on it finishes. */
  readonly signal?: AbortSignal;
  /** Bytes of the archive read so far (of `row.size`), from the copy being read. */
  readonly onProgress?: (read: number) => void;
}

export interface RestoreReport extends ExtractStats {
  readonly from: string;
  readonly target: string;
}

/** Where this run stages, and what the target looked like before. */
interface Plan {
  readonly target: string;
  readonly tag: string;
  readonly staging: string;
  /** The existing target directory (undefined: none yet); its times are put back on failure. */
  readonly before?: Deno.FileInfo;
}

/** Restores a backup into `options.target` (see the module doc); returns what it did. */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreReport> {
  compileIncludes(options.include);
  const plan = makeStaging(resolveTarget(options.target), options.journal);
  let placed: Placed;
  let extracted: { extractor: Extractor; from: string };
  try {
    extracted = await extract(plan, options);
    extracted.extractor.selection.requireSome(options.row.id);
    options.signal?.throwIfAborted();
    placed = place(plan, extracted.extractor, options.log);
  } catch (error) {
    discardStaging(plan, options.journal, options.log);
    putBackTimes(plan);
    throw error;
  }
  // Only now are the previous contents garbage: a restore that dies before leaves them be.
  for (const oldDir of placed.oldDirs) removeOld(oldDir, options.journal, options.log);
  discardStaging(plan, options.journal, options.log);
  stampDirectories(plan.target, placed.kept, extracted.extractor.directories, options.log);
  return { ...extracted.extractor.stats, from: extracted.from, target: plan.target };
}

function makeStaging(target: string, journal: Journal): Plan {
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const before = lstatOrNone(target);
  const slash = target.lastIndexOf("/");
  const parent = target.slice(0, slash) || "/";
  const staging = before
    ? `${target}/${stagingName(tag)}`
    : `${parent}/.${target.slice(slash + 1)}${stagingName(tag)}`;
  journal.add("paths", staging);
  try {
    if (!before) Deno.mkdirSync(parent, { recursive: true });
    Deno.mkdirSync(staging, { mode: 0o700 });
  } catch (error) {
    journal.remove("paths", staging);
    throw new PackratError(
      `cannot create a staging directory in ${before ? target : parent}: ${
        (error as Error).message
      }`,
    );
  }
  return { target, tag, staging, before };
}

/** Extracts the archive into the staging directory, from the first source that can be read. */
function extract(
  plan: Plan,
  options: RestoreOptions,
): Promise<{ extractor: Extractor; from: string }> {
  const { row, log } = options;
  return readFromSources(
    options.sources,
    options.host,
    row,
    log,
    async (stream, destination) => {
      const source = `${destination.name}:${row.id}`;
      const extractor = new Extractor({
        root: plan.staging,
        source,
        include: options.include,
        warn: (message) => log.warn(message),
        signal: options.signal,
      });
      await unpackArchive(counted(stream, options.onProgress), options.master, source, extractor);
      extractor.finish();
      return { extractor, from: destination.name };
    },
    () => {
      emptyStaging(plan);
      return Promise.resolve();
    },
  );
}

/** Puts the staged tree in place; returns what is left to finish. */
function place(plan: Plan, extractor: Extractor, log: Logger): Placed {
  if (!plan.before) {
    // A new directory: one rename, on the same filesystem since the staging is beside it.
    Deno.renameSync(plan.staging, plan.target);
    return { oldDirs: [], kept: [""] };
  }
  if (!extractor.selection.partial) return swapContents(plan.staging, plan.target, plan.tag, log);
  const placed = mergeContents(plan.staging, plan.target, plan.tag, log);
  // Existing directories keep their mode and time unless --include selected them.
  return { ...placed, kept: placed.kept.filter((rel) => extractor.selection.dirs.has(rel)) };
}

/**
 * Directories that stayed in place (the target, mount points) get their archive metadata
 * last: moving entries in and out, and removing the old and staging directories, changed
 * their modification times. Failing here is a warning — the data is in place.
 */
function stampDirectories(
  target: string,
  kept: readonly string[],
  directories: ReadonlyMap<string, TarEntry>,
  log: Logger,
): void {
  for (const rel of deepestFirst(kept)) {
    const entry = directories.get(rel);
    if (!entry) continue;
    const path = rel === "" ? target : `${target}/${rel}`;
    try {
      applyDirMetadata(path, entry);
    } catch (error) {
      log.warn(
        `restored, but could not set the mode, owner or time of ${path}: ${messageOf(error)}`,
      );
    }
  }
}

/** The restore succeeded: a previous tree that cannot be removed is a warning, not a failure. */
function removeOld(oldDir: string, journal: Journal, log: Logger): void {
  journal.add("paths", oldDir);
  const problems = removeTree(oldDir);
  // What could not go (a mount point inside, say) is the user's to look at, not a leftover.
  journal.remove("paths", oldDir);
  if (problems.length === 0) return;
  log.warn(`restored; the previous contents were left at ${oldDir} (${summary(problems)})`);
}

/** Removes the staging directory; never throws, so it cannot hide the error being reported. */
function discardStaging(plan: Plan, journal: Journal, log: Logger): void {
  const problems = removeTree(plan.staging);
  if (problems.length === 0) return journal.remove("paths", plan.staging);
  log.warn(
    `could not remove the staging directory ${plan.staging} (${
      summary(problems)
    }); it holds decrypted data: remove it by hand`,
  );
}

/** Before reading the next copy of the backup. */
function emptyStaging(plan: Plan): void {
  const problems = removeTree(plan.staging);
  if (problems.length > 0) {
    throw new PackratError(`cannot empty the staging directory: ${summary(problems)}`);
  }
  Deno.mkdirSync(plan.staging, { mode: 0o700 });
}

/** Creating and removing the staging directory changed the target's times: put them back. */
function putBackTimes(plan: Plan): void {
  const { before } = plan;
  if (!before?.mtime) return;
  try {
    Deno.utimeSync(plan.target, before.atime ?? before.mtime, before.mtime);
  } catch {
    // Cosmetic, and not ours to fail on (e.g. a directory owned by someone else).
  }
}

function summary(problems: readonly string[]): string {
  return problems.length === 1 ? problems[0] : `${problems[0]}, and ${problems.length - 1} more`;
}
