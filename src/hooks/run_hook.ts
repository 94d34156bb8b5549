/**
 * `pre_backup` and `post_backup`: a shell command with its own environment (secrets read from
 * their files just before it starts), working directory and timeout. Its output goes to the log
 * line by line. On timeout (or interrupt) the whole process group is killed, so a `pg_dump`
 * started by the script does not outlive it.
 *
 * @module
 */
import { readSecret } from "../config/secrets.ts";
import type { HookConfig } from "../config/types.ts";
import { ConfigError, PackratError } from "../errors.ts";
import type { Logger } from "../ui/log.ts";

/** A hook failed: non-zero exit, timeout, or it could not start. */
export class HookError extends PackratError {}

/** How much of the hook's last stderr line its error quotes. */
const MAX_QUOTED_OUTPUT = 300;

export async function runHook(options: {
  hook: HookConfig;
  /** e.g. `gitea: pre_backup`, used in log lines and errors. */
  label: string;
  log: Logger;
  signal?: AbortSignal;
}): Promise<void> {
  const { hook, label, log, signal } = options;
  signal?.throwIfAborted();
  const env = { ...hook.environment, ...await readSecretEnvironment(hook, label) };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("sh", {
      args: ["-c", hook.command],
      cwd: hook.workingDir,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // Its own process group, so the timeout can take down everything it started.
      detached: true,
    }).spawn();
  } catch (error) {
    throw new HookError(
      `${label}: cannot start in ${hook.workingDir}: ${(error as Error).message}`,
    );
  }
  let reason: string | undefined;
  const killGroup = (why: string) => {
    reason ??= why;
    void killProcessGroup(child.pid);
  };
  const timer = setTimeout(
    () => killGroup(`timed out after ${formatMs(hook.timeoutMs)}; killed`),
    hook.timeoutMs,
  );
  const onAbort = () => killGroup("interrupted");
  signal?.addEventListener("abort", onAbort, { once: true });
  // The error repeats the hook's last word on stderr: a notification then says why it failed.
  let lastError = "";
  try {
    const [status] = await Promise.all([
      child.status,
      logLines(child.stdout, (line) => log.info(`${label}: ${line}`)),
      logLines(child.stderr, (line) => {
        lastError = line.trim();
        log.warn(`${label}: ${line}`);
      }),
    ]);
    // Stopped because the run was: that is the run's interruption, not the hook's failure.
    signal?.throwIfAborted();
    if (reason) throw new HookError(`${label} ${reason}`);
    if (!status.success) {
      const why = lastError ? `: ${withoutCredentials(lastError).slice(0, MAX_QUOTED_OUTPUT)}` : "";
      throw new HookError(
        `${label} failed (exit ${status.code}${status.signal ? `, ${status.signal}` : ""})${why}`,
      );
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * The `X_file` variables, read now so that a rotated secret is picked up without a restart.
 * A secret that cannot be read stops the hook before it starts: running `pg_dump` without its
 * password would only fail later, less clearly.
 */
async function readSecretEnvironment(
  hook: HookConfig,
  label: string,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [name, secret] of Object.entries(hook.secretEnvironment)) {
    try {
      env[name] = await readSecret(secret);
    } catch (error) {
      // readSecret's messages name the key and the file, never the content.
      throw new ConfigError(`${label} was not run: ${(error as Error).message}`);
    }
  }
  return env;
}

/**
 * Kills a process group. `Deno.kill` needs the run permission for every program; `sh` is the
 * one program Packrat may run, and its `kill` builtin reaches the group.
 */
async function killProcessGroup(pgid: number): Promise<void> {
  try {
    await new Deno.Command("sh", {
      // dash's kill builtin rejects "--"; a negative pid names the group.
      args: ["-c", `kill -KILL -${pgid}`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
  } catch {
    // Already gone.
  }
}

async function logLines(
  stream: ReadableStream<Uint8Array>,
  emit: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + text).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) if (line.trim() !== "") emit(line);
  }
  if (rest.trim() !== "") emit(rest);
}

/** `scheme://user:password@host` → `scheme://***@host`: a tool's error may quote its URL. */
function withoutCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, "$1***@");
}

function formatMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
