/**
 * The state directory: where every Packrat process of a machine keeps its locks and the record
 * of what a run in progress must undo if it dies. One machine, one directory — whoever runs the
 * command and whatever its environment — so that a root CLI run and the systemd service see the
 * same locks.
 *
 * @module
 */
import fs from "node:fs";
import { homedir } from "node:os";

/** The system-wide state directory; systemd's `StateDirectory=packrat` creates exactly this. */
export const SYSTEM_STATE_DIR = "/var/lib/packrat";

/** What the default depends on; this process's values unless a test says otherwise. */
export interface StateDirFacts {
  readonly uid: number;
  readonly env: (name: string) => string | undefined;
  readonly home: string;
  /** Whether the directory exists and this process may create files in it. */
  readonly writable: (path: string) => boolean;
}

/**
 * `backup.state_dir` when set; else `/var/lib/packrat` when running as root or when it exists
 * and is writable (the service user of a systemd unit); else `$XDG_STATE_HOME/packrat`, else
 * `~/.local/state/packrat`. `$STATE_DIRECTORY` is deliberately not consulted: a CLI run without
 * it must find the daemon's locks.
 *
 * @example
 * ```ts
 * stateDirectory(config.backup.stateDir); // "/var/lib/packrat" as root
 * ```
 */
export function stateDirectory(
  configured: string | undefined,
  facts: StateDirFacts = thisProcess(),
): string {
  if (configured) return configured;
  if (facts.uid === 0 || facts.writable(SYSTEM_STATE_DIR)) return SYSTEM_STATE_DIR;
  const xdg = facts.env("XDG_STATE_HOME");
  // The XDG spec says to ignore a relative path.
  if (xdg?.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/packrat`;
  return `${facts.home.replace(/\/+$/, "")}/.local/state/packrat`;
}

function thisProcess(): StateDirFacts {
  return {
    uid: Deno.uid() ?? -1,
    env: (name) => Deno.env.get(name),
    // HOME is unset in some service managers; the password database still knows.
    home: Deno.env.get("HOME") || homedir(),
    writable: (path) => {
      try {
        fs.accessSync(path, fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Root creating a directory (`locks/`, `services/`) in a state directory that belongs to the
 * service's user gives it to that user, so that the daemon can still write there after a
 * `sudo packrat backup`.
 */
export function adoptStateOwner(stateDir: string, path: string): void {
  if (Deno.uid() !== 0) return;
  const owner = Deno.statSync(stateDir);
  const info = Deno.statSync(path);
  if (owner.uid !== null && owner.uid !== 0 && info.uid === 0) {
    Deno.chownSync(path, owner.uid, owner.gid);
  }
}
