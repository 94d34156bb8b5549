/**
 * One run per service at a time, for the CLI and the daemon alike: a lock file per service in
 * the state directory. A lock whose process is gone (or whose PID now belongs to another
 * process) is stale and taken over.
 *
 * @module
 */
import { LockedError, PackratError } from "../errors.ts";

interface LockOwner {
  pid: number;
  /** Field 22 of /proc/PID/stat: tells a reused PID from the original process. */
  start: string;
  since: string;
}

/** `$STATE_DIRECTORY`, else `$XDG_STATE_HOME/packrat`, else `~/.local/state/packrat`. */
export function stateDirectory(env = (name: string) => Deno.env.get(name)): string {
  const fromSystemd = env("STATE_DIRECTORY")?.split(":")[0];
  if (fromSystemd) return fromSystemd;
  const xdg = env("XDG_STATE_HOME");
  return `${xdg || `${env("HOME") ?? "/root"}/.local/state`}/packrat`;
}

/** Takes the lock of `service`, or throws LockedError. Returns the release function. */
export async function acquireLock(stateDir: string, service: string): Promise<() => Promise<void>> {
  const dir = `${stateDir}/locks`;
  const path = `${dir}/${service}.lock`;
  const me: LockOwner = {
    pid: Deno.pid,
    start: await processStart(Deno.pid) ?? "",
    since: new Date().toISOString(),
  };
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new PackratError(`cannot create the lock directory ${dir}: ${(error as Error).message}`);
  }
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temp, JSON.stringify(me));
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        // link() is atomic and fails if the lock exists: exactly one run wins.
        await Deno.link(temp, path);
        return async () => {
          const current = await readOwner(path);
          if (current?.pid === me.pid && current.start === me.start) {
            await Deno.remove(path).catch(() => {});
          }
        };
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
      const owner = await readOwner(path);
      if (owner && await isAlive(owner)) {
        throw new LockedError(
          `${service} is already being backed up (pid ${owner.pid}, since ${owner.since}); try again when it has finished`,
        );
      }
      // Stale: its process is gone. Remove it and try once more.
      await Deno.remove(path).catch(() => {});
    }
    throw new LockedError(`${service} is already being backed up (another run took the lock)`);
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await Deno.readTextFile(path));
    return typeof owner?.pid === "number" ? owner : undefined;
  } catch {
    return undefined;
  }
}

async function isAlive(owner: LockOwner): Promise<boolean> {
  const start = await processStart(owner.pid);
  return start !== undefined && (owner.start === "" || start === owner.start);
}

/**
 * The start time of a process (field 22 of /proc/PID/stat), or undefined when there is no such
 * process. Read through `sh`: Deno refuses /proc to anything short of --allow-all, while `sh`
 * is the one program Packrat may run.
 */
async function processStart(pid: number): Promise<string | undefined> {
  const { code, stdout } = await new Deno.Command("sh", {
    args: ["-c", 'cat "/proc/$1/stat" 2>/dev/null', "sh", String(pid)],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  if (code !== 0) return undefined;
  const stat = new TextDecoder().decode(stdout);
  // The command name (field 2) may contain spaces; the fields after its ")" are plain.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}
