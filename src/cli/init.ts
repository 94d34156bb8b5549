/** `packrat init`: derive a key from a password and write the key file. @module */
import type { Command } from "commander";
import { loadConfig } from "../config/load.ts";
import { newKey, writeKeyFile } from "../crypto/key.ts";
import type { Cli } from "./context.ts";
import { keepOnly } from "./permissions.ts";
import { readNewPassword } from "../ui/password.ts";
import { stderrLogger } from "../ui/log.ts";

export function registerInit(program: Command, cli: Cli): void {
  program
    .command("init")
    .description("create the encryption key from a password (Argon2id) and write the key file")
    .option("--password-file <file>", "read the password from a file instead of prompting")
    .option("--key-file <path>", "where to write the key (default: encryption.key_file)")
    .option("--force", "replace an existing key file")
    .action(async (options: { passwordFile?: string; keyFile?: string; force?: boolean }) => {
      keepOnly("write");
      const keyFile = options.keyFile ?? (await loadConfig({ path: cli.global().config }))
        .encryption.keyFile;
      const password = await readNewPassword(options.passwordFile);
      const master = await newKey(password);
      await writeKeyFile(keyFile, master, options.force ?? false);
      stderrLogger().info(
        [
          `wrote key file ${keyFile} (key id ${master.keyId})`,
          "It has mode 0600: only you can read it.",
          "Without the password or this key file your backups cannot be restored.",
          "Keep the password safe, e.g. in a password manager: from it, `packrat rekey` re-creates a lost key file.",
          "A copy of the key file restores too; keep any copy as secret as the password.",
        ].join("\n"),
      );
    });
}
