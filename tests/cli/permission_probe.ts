/**
 * Runs one packrat command in this process (started with the product's permission set), then
 * reports which permissions the command left and whether spawning a process or writing a file
 * still works — what a bug or a hostile archive in that command could do.
 *
 * Usage: deno run -P=packrat permission_probe.ts SCRATCH_DIR ARGS…
 *
 * @module
 */
import { main } from "../../src/cli/main.ts";

const [scratch, ...args] = Deno.args;
const code = await main(args);

async function attempt(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return "allowed";
  } catch (error) {
    return error instanceof Deno.errors.NotCapable ? "refused" : `error: ${error}`;
  }
}

const report = {
  code,
  state: {
    // The set grants `run` for sh only.
    run: Deno.permissions.querySync({ name: "run", command: "sh" }).state,
    write: Deno.permissions.querySync({ name: "write" }).state,
    net: Deno.permissions.querySync({ name: "net" }).state,
    read: Deno.permissions.querySync({ name: "read" }).state,
  },
  spawn: await attempt(() => new Deno.Command("sh", { args: ["-c", "true"] }).output()),
  write: await attempt(() => Deno.writeTextFile(`${scratch}/written-after`, "x")),
};
console.log(`PROBE ${JSON.stringify(report)}`);
