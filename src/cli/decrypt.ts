/** `packrat decrypt FILE`: the inner .tar.zst on stdout, for recovery with standard tools. @module */
import type { Command } from "commander";
import { loadConfig } from "../config/load.ts";
import { readKeyFile } from "../crypto/key.ts";
import { decryptStream } from "../crypto/stream.ts";
import { PackratError } from "../errors.ts";
import type { Cli } from "./context.ts";
import { keepOnly } from "./permissions.ts";

export function registerDecrypt(program: Command, cli: Cli): void {
  program
    .command("decrypt")
    .description("write an archive's decrypted .tar.zst to stdout (e.g. | zstd -d | tar -x)")
    .argument("<file>", "a .packrat archive")
    .option("--key-file <path>", "key file (default: encryption.key_file from the config)")
    .action(async (file: string, options: { keyFile?: string }) => {
      keepOnly();
      const keyFile = options.keyFile ??
        (await loadConfig({ path: cli.global().config })).encryption.keyFile;
      const master = await readKeyFile(keyFile);
      if (Deno.stdout.isTerminal()) {
        throw new PackratError("refusing to write binary data to a terminal; pipe it: | zstd -d");
      }
      let input: Deno.FsFile;
      try {
        input = await Deno.open(file);
      } catch (error) {
        throw new PackratError(`cannot open ${file}: ${(error as Error).message}`);
      }
      await input.readable.pipeThrough(decryptStream(master, file)).pipeTo(Deno.stdout.writable, {
        preventClose: true,
      });
    });
}
