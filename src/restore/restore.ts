/**
 * Restore: extract a backup into a staging directory beside the target, and only once the
 * whole archive has been decrypted, authenticated and written, swap it into place. A failed
 * restore leaves the target exactly as it was.
 *
 * @module
 */
import { compileExcludes } from "../archive/glob.ts";
import { unpackArchive } from "../archive/unpack.ts";
import type { BackupRow } from "../backup/catalog.ts";
import type { MasterKey } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { PackratError } from "../errors.ts";
import { basename, dirname, removeIfExists } from "../io/files.ts";
import type { Logger } from "../ui/log.ts";
import { Extractor, type ExtractStats } from "./extract.ts";
import { readFromSources } from "./find.ts";

export interface RestoreOptions {
  readonly sources: readonly Destination[];
  readonly host: string;
  readonly row: BackupRow;
  readonly master: MasterKey;
  /** Directory to restore into (the service path, or `--target`). */
  readonly target: string;
  /** `--include` globs: restore only matching paths, leaving everything else in place. */
  readonly include: readonly string[];
  readonly log: Logger;
}

export interface RestoreReport extends ExtractStats {
  readonly from: string;
  readonly target: string;
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreReport> {
  const { target, log } = options;
  const parent = dirname(target);
  const tag = crypto.randomUUID().slice(0, 8);
  const staging = `${parent}/.${basename(target)}.packrat-restore-${tag}`;
  const include = options.include.length > 0 ? compileExcludes(options.include) : undefined;
  try {
    await Deno.mkdir(parent, { recursive: true });
    await Deno.mkdir(staging, { mode: 0o700 });
  } catch (error) {
    throw new PackratError(
      `cannot create a staging directory in ${parent}: ${(error as Error).message}`,
    );
  }
  try {
    const { stats, from } = await readFromSources(
      options.sources,
      options.host,
      options.row,
      log,
      async (stream, destination) => {
        const extractor = new Extractor(
          staging,
          `${destination.name}:${options.row.id}`,
          include && ((path) => include(path, false)),
        );
        await unpackArchive(
          stream,
          options.master,
          `${destination.name}:${options.row.id}`,
          extractor,
        );
        extractor.finish();
        return { stats: extractor.stats, from: destination.name };
      },
      async () => {
        await removeIfExists(staging);
        await Deno.mkdir(staging, { mode: 0o700 });
      },
    );
    if (include) await mergeInto(staging, target);
    else await swapInto(staging, target, `${parent}/.${basename(target)}.packrat-old-${tag}`);
    return { ...stats, from, target };
  } finally {
    await removeIfExists(staging);
  }
}

/** Replaces `target` with `staging` by two renames; the old tree is removed afterwards. */
async function swapInto(staging: string, target: string, old: string): Promise<void> {
  let hadTarget = true;
  try {
    await Deno.rename(target, old);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    hadTarget = false;
  }
  try {
    await Deno.rename(staging, target);
  } catch (error) {
    if (hadTarget) await Deno.rename(old, target);
    throw error;
  }
  if (hadTarget) await removeIfExists(old);
}

/** Moves every restored entry of `staging` into `target`, replacing what is there. */
async function mergeInto(staging: string, target: string): Promise<void> {
  await Deno.mkdir(target, { recursive: true });
  for await (const entry of Deno.readDir(staging)) {
    const from = `${staging}/${entry.name}`;
    const to = `${target}/${entry.name}`;
    let existing: Deno.FileInfo | undefined;
    try {
      existing = await Deno.lstat(to);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (entry.isDirectory && existing?.isDirectory) {
      await mergeInto(from, to);
      continue;
    }
    if (existing) await removeIfExists(to);
    await Deno.rename(from, to);
  }
}
