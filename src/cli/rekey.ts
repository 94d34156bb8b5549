/**
 * `packrat rekey`: recreate a lost or damaged key file from the password, using the salt and
 * KDF parameters stored in an existing backup's header.
 *
 * @module
 */
import type { Command } from "commander";
import { listBackups } from "../catalog/catalog.ts";
import { readHeader } from "../crypto/header.ts";
import { deriveKey, readKeyFile, writeKeyFile } from "../crypto/key.ts";
import { closeDestinations } from "../destinations/index.ts";
import { KeyError, PackratError } from "../errors.ts";
import { readExistingPassword } from "../ui/prompts.ts";
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
          : await newestHeader(ctx);
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
        ctx.log.info(`wrote key file ${keyFile} (key id ${master.keyId})`);
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

/** The header of the newest backup of any service, from the first destination holding it. */
async function newestHeader(ctx: Context) {
  const host = ctx.config.backup.host;
  const rows = (await Promise.all(
    ctx.config.services.map(async (s) =>
      (await listBackups(ctx.destinations, host, s.name, ctx.log)).rows
    ),
  )).flat().sort((a, b) => a.id < b.id ? 1 : -1);
  const newest = rows[0];
  if (!newest) {
    throw new PackratError("no backups found to take the salt from; pass --archive FILE");
  }
  const destination = ctx.destinations.find((d) => newest.destinations.includes(d.name))!;
  const source = `${destination.name}:${newest.service}/${newest.id}`;
  return readHeader(await destination.open(host, newest.service, newest.id), source);
}
