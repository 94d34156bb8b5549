/** `packrat decrypt FILE`: the inner .tar.zst, for recovery with standard tools. @module */
import type { Command } from "commander";
import { loadConfig } from "../config/load.ts";
import { readKeyFile } from "../crypto/key.ts";
import { decryptStream } from "../crypto/stream.ts";
import { PackratError } from "../errors.ts";
import { removeIfExists } from "../io/files.ts";
import type { Cli } from "./context.ts";
import { keepOnly } from "./permissions.ts";

export function registerDecrypt(program: Command, cli: Cli): void {
  program
    .command("decrypt")
    .description("write an archive's decrypted .tar.zst to stdout or --output FILE")
    .argument("<file>", "a .packrat archive")
    .option("--key-file <path>", "key file (default: encryption.key_file from the config)")
    .option(
      "-o, --output <file>",
      "write here instead, and only keep it once the whole archive authenticated",
    )
    .action(async (file: string, options: { keyFile?: string; output?: string }) => {
      keepOnly(...(options.output ? ["write" as const] : []));
      const keyFile = options.keyFile ??
        (await loadConfig({ path: cli.global().config })).encryption.keyFile;
      const master = await readKeyFile(keyFile);
      if (!options.output && Deno.stdout.isTerminal()) {
        throw new PackratError(
          "refusing to write binary data to a terminal; pipe it (| zstd -d) or use --output FILE",
        );
      }
      let input: Deno.FsFile;
      try {
        input = await Deno.open(file);
      } catch (error) {
        throw new PackratError(`cannot open ${file}: ${(error as Error).message}`);
      }
      const plain = input.readable.pipeThrough(decryptStream(master, file));
      if (!options.output) {
        await plain.pipeTo(Deno.stdout.writable, { preventClose: true });
        return;
      }
      // A temp name, renamed only after the last chunk authenticated: nothing half-checked is
      // ever left under the requested name.
      const temp = `${options.output}.partial-${crypto.randomUUID().slice(0, 8)}`;
      try {
        const output = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
        await plain.pipeTo(output.writable);
        await Deno.rename(temp, options.output);
      } catch (error) {
        await removeIfExists(temp);
        throw error;
      }
    });
}
