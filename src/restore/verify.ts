/**
 * Verify: download a backup and fully decrypt, decompress and walk it without writing files —
 * a restore test.
 *
 * @module
 */
import { unpackArchive } from "../archive/unpack.ts";
import type { BackupRow } from "../backup/catalog.ts";
import type { MasterKey } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import type { Logger } from "../ui/log.ts";
import { PathGuard } from "./extract.ts";
import { readFromSources } from "./find.ts";

export interface VerifyReport {
  readonly from: string;
  readonly entries: number;
  readonly bytes: number;
}

export function verifyBackup(options: {
  sources: readonly Destination[];
  host: string;
  row: BackupRow;
  master: MasterKey;
  log: Logger;
}): Promise<VerifyReport> {
  return readFromSources(
    options.sources,
    options.host,
    options.row,
    options.log,
    async (stream, d) => {
      const source = `${d.name}:${options.row.id}`;
      const guard = new PathGuard(source);
      const result = await unpackArchive(stream, options.master, source, {
        entry(entry) {
          guard.check(entry);
          return undefined;
        },
      });
      return { from: d.name, entries: result.entries, bytes: result.bytes };
    },
  );
}
