/**
 * `packrat rekey`: recreate a lost or damaged key file from the password, using the salt and
 * KDF parameters stored in an existing backup's header.
 *
 * @module
 */
import type { Command } from "commander";
import { listBackups } from "../catalog/catalog.ts";
import { type ArchiveHeader, readHeader } from "../crypto/header.ts";
import { deriveKey, readKeyFile, writeKeyFile } from "../crypto/key.ts";
import { closeDestinations } from "../destinations/index.ts";
import { KeyError, messageOf, PackratError } from "../errors.ts";
import { readExistingPassword } from "../ui/password.ts";
import { type Cli, type Context, openContext } from "./context.ts";
import { keepOnly } from "./permissions.ts";

export function registerRekey(program: Command, cli: Cli): void {
  program
    .command("rekey")
    .description("recreate the key file from your password and any existing backup")
    .option("--password-file <file>", "read the password from a file instead of prompting")
    .option("--archive <file>", "take the salt from this .packrat file (default: newest backup)")
    .option("--force", "replace a valid key file that belongs to another key")
    .action(async (flags: { passwordFile?: string; archive?: string; force?: boolean }) => {
      keepOnly("write", "net");
      const ctx = await openContext(cli.global());
      const keyFile = ctx.config.encryption.keyFile;
      try {
        const header = flags.archive
          ? await readHeader((await openLocal(flags.archive)).readable, flags.archive)
          : await newestReadableHeader(ctx);
        const password = await readExistingPassword(flags.passwordFile);
        const master = await deriveKey(password, header.kdf);
        if (master.keyId !== header.keyId) {
          throw new KeyError(
            "wrong password: it does not derive this backup's key; nothing was written",
          );
        }
        const existing = await readKeyFile(keyFile).catch(() => undefined);
        if (existing && existing.keyId !== master.keyId && !flags.force) {
          throw new KeyError(
            `${keyFile} holds another valid key (key id ${existing.keyId}); use --force to replace it`,
          );
        }
        await writeKeyFile(keyFile, master, true);
        ctx.log.info(`wrote key file ${keyFile} (key id ${master.keyId}, mode 0600)`);
      } finally {
        await closeDestinations(ctx.destinations);
      }
    });
}

async function openLocal(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path);
  } catch (error) {
    throw new PackratError(`cannot open ${path}: ${(error as Error).message}`);
  }
}

/**
 * The header of the newest backup, of any service, that can be read: each destination holding
 * it is tried in turn, then the next newest backup, so an unreachable destination or a damaged
 * archive does not stop a rekey. Says which archive it used.
 */
async function newestReadableHeader(ctx: Context): Promise<ArchiveHeader> {
  const host = ctx.config.backup.host;
  // A service no destination can list is skipped: listBackups has already warned about it.
  const catalogs = await Promise.allSettled(
    ctx.config.services.map((s) => listBackups(ctx.destinations, host, s.name, ctx.log)),
  );
  const rows = catalogs.flatMap((c) => c.status === "fulfilled" ? c.value.rows : [])
    .sort((a, b) => a.id < b.id ? 1 : -1);
  let unreadable = 0;
  for (const row of rows) {
    for (const destination of ctx.destinations.filter((d) => row.destinations.includes(d.name))) {
      const source = `${host}/${row.service}/${row.id} on ${destination.name}`;
      try {
        const header = await readHeader(
          await destination.open(host, row.service, row.id),
          source,
        );
        ctx.log.info(`using ${source}`);
        return header;
      } catch (error) {
        unreadable++;
        ctx.log.warn(`cannot read ${source}: ${messageOf(error)}; trying the next copy`);
      }
    }
  }
  const searched = `host ${host} on ${ctx.destinations.map((d) => d.name).join(", ")}`;
  throw new PackratError(
    unreadable > 0
      ? `none of the ${unreadable} backup copies of ${searched} could be read (see the warnings above); pass --archive FILE`
      : `no backups of ${searched} to take the salt from; pass --archive FILE`,
  );
}
