/**
 * Test helpers: temp dirs, running the real CLI, building and comparing file trees.
 *
 * The CLI runs through scripts/packrat, i.e. with exactly the product's permissions.
 *
 * @module
 */
import assert from "node:assert/strict";

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const PACKRAT = `${ROOT}/scripts/packrat`;
export const PASSWORD = "correct horse battery staple";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `packrat ARGS` and captures its output. */
export async function packrat(
  args: string[],
  options: { env?: Record<string, string>; stdin?: Uint8Array; cwd?: string } = {},
): Promise<CliResult> {
  const child = new Deno.Command(PACKRAT, {
    args,
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  return collect(child);
}

/** A packrat process running in the background. */
export interface Running extends AsyncDisposable {
  readonly pid: number;
  /** Its exit code and output, once it has exited. */
  readonly result: Promise<CliResult>;
  /** Sends a signal (no-op once it has exited). */
  kill(signal: Deno.Signal): void;
  /** What it has written to stderr so far. */
  stderrSoFar(): string;
}

/** Starts `packrat ARGS` in the background; disposing it kills it if it still runs. */
export function startPackrat(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Running {
  const child = new Deno.Command(PACKRAT, {
    args,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (stderr += chunk) }),
  );
  const result = (async () => {
    const [{ code }, stdout] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      stderrDone,
    ]);
    return { code, stdout, stderr };
  })();
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
  };
  return {
    pid: child.pid,
    result,
    kill,
    stderrSoFar: () => stderr,
    async [Symbol.asyncDispose]() {
      kill("SIGKILL");
      await result.catch(() => {});
    },
  };
}

async function collect(child: Deno.ChildProcess): Promise<CliResult> {
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Polls `condition` every `intervalMs` until it holds; fails naming `what` after `timeoutMs`. */
export async function pollUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Like pollUntil, while `run` is running: fails with its output if it exits first. */
export async function pollWhileRunning(
  run: Running,
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 20,
): Promise<void> {
  let exited: string | undefined;
  run.result.then((result) => exited = show(result));
  await pollUntil(
    what,
    () => {
      if (exited) throw new Error(`it exited before ${what}: ${exited}`);
      return condition();
    },
    timeoutMs,
    intervalMs,
  );
}

/** Kills `run` with SIGKILL as soon as `ready` holds (polled every 5 ms); fails if it exits first. */
export async function killWhen(
  run: Running,
  what: string,
  ready: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  await pollWhileRunning(run, what, ready, timeoutMs, 5);
  run.kill("SIGKILL");
  const result = await run.result;
  if (result.code !== 137) throw new Error(`not killed by SIGKILL: ${show(result)}`);
}

/** Whether anything (even a dangling link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** `exit N`, stdout and stderr, for assertion messages. */
export function show(result: CliResult): string {
  return `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

/** Asserts exit code 0, showing the output otherwise. */
export function assertOk(result: CliResult): CliResult {
  assert.equal(
    result.code,
    0,
    `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
  return result;
}

/** A temp directory removed when disposed. */
export async function tempDir(
  prefix = "packrat-test-",
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

let cachedKey: string | undefined;

/** A key file text derived once per test process (Argon2id takes ~0.5 s). */
async function keyFileText(): Promise<string> {
  if (cachedKey) return cachedKey;
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/pw`, `${PASSWORD}\n`);
  assertOk(
    await packrat(["init", "--password-file", `${dir.path}/pw`, "--key-file", `${dir.path}/key`]),
  );
  cachedKey = await Deno.readTextFile(`${dir.path}/key`);
  return cachedKey;
}

export interface Setup {
  dir: string;
  config: string;
  keyFile: string;
  dest: string;
  /** Runs packrat with this setup's config. */
  run(args: string[], options?: { env?: Record<string, string> }): Promise<CliResult>;
  /** Starts packrat with this setup's config in the background. */
  start(args: string[], options?: { env?: Record<string, string> }): Running;
}

/**
 * A work dir with a key file, a local destination and a config holding `services` (YAML
 * lines per service, indented by the caller's choice of keys).
 */
export async function setup(
  dir: string,
  services: Record<string, Record<string, unknown>>,
  backupExtra: Record<string, unknown> = {},
): Promise<Setup> {
  const keyFile = `${dir}/key`;
  const dest = `${dir}/dest`;
  await Deno.writeTextFile(keyFile, await keyFileText(), { mode: 0o600 });
  await Deno.mkdir(dest, { recursive: true });
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    JSON.stringify(
      {
        encryption: { key_file: keyFile },
        services,
        backup: {
          host: "testhost",
          staging_dir: `${dir}/staging`,
          state_dir: `${dir}/state`,
          local: { path: dest },
          ...backupExtra,
        },
      },
      null,
      2,
    ),
  );
  return {
    dir,
    config,
    keyFile,
    dest,
    // Locks go to a state directory of the test's own (backup.state_dir), so runs never meet.
    run: (args, options) => packrat(["--config", config, ...args], options),
    start: (args, options) => startPackrat(["--config", config, ...args], options),
  };
}

/** Fills a file with `size` pseudo-random bytes (incompressible), written in 1 MiB pieces. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const piece = new Uint8Array(1024 * 1024);
  let state = size ^ 0x9e3779b9;
  for (let done = 0; done < size; done += piece.length) {
    for (let i = 0; i < piece.length; i += 4) {
      state = (state * 1664525 + 1013904223) >>> 0;
      piece[i] = state & 255;
      piece[i + 1] = (state >> 8) & 255;
      piece[i + 2] = (state >> 16) & 255;
      piece[i + 3] = state >>> 24;
    }
    const n = Math.min(piece.length, size - done);
    let offset = 0;
    while (offset < n) offset += await file.write(piece.subarray(offset, n));
  }
}

export interface NodeInfo {
  type: "file" | "dir" | "symlink";
  mode: number;
  mtimeMs?: number;
  size?: number;
  sha256?: string;
  target?: string;
  /** Other paths of the same inode (hard links), for files with nlink > 1. */
  linkGroup?: string;
}

/** Describes every entry under `root` (not the root itself), for exact comparisons. */
export async function snapshotTree(root: string): Promise<Map<string, NodeInfo>> {
  const out = new Map<string, NodeInfo>();
  const inodes = new Map<string, string>();
  const visit = async (rel: string) => {
    const entries = [];
    for await (const e of Deno.readDir(rel ? `${root}/${rel}` : root)) entries.push(e.name);
    for (const name of entries.sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = `${root}/${path}`;
      const info = await Deno.lstat(abs);
      const mode = (info.mode ?? 0) & 0o7777;
      if (info.isSymlink) {
        out.set(path, { type: "symlink", mode: 0, target: await Deno.readLink(abs) });
      } else if (info.isDirectory) {
        out.set(path, { type: "dir", mode, mtimeMs: info.mtime!.getTime() });
        await visit(path);
      } else {
        const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(abs));
        const inode = `${info.ino}`;
        let linkGroup: string | undefined;
        if ((info.nlink ?? 1) > 1) {
          linkGroup = inodes.get(inode) ?? path;
          inodes.set(inode, linkGroup);
        }
        out.set(path, {
          type: "file",
          mode,
          mtimeMs: info.mtime!.getTime(),
          size: info.size,
          sha256: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(
            "",
          ),
          linkGroup,
        });
      }
    }
  };
  await visit("");
  return out;
}

/** Asserts two trees are identical, naming the first differences. */
export function assertSameTree(
  actual: Map<string, NodeInfo>,
  expected: Map<string, NodeInfo>,
): void {
  const problems: string[] = [];
  for (const [path, info] of expected) {
    const got = actual.get(path);
    if (!got) problems.push(`missing: ${path}`);
    else if (JSON.stringify(got) !== JSON.stringify(info)) {
      problems.push(
        `differs: ${path}\n  expected ${JSON.stringify(info)}\n  got      ${JSON.stringify(got)}`,
      );
    }
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`unexpected: ${path}`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} differences`);
}

/** Archive files of a service under a local destination, oldest first. */
export async function findArchives(
  dest: string,
  service: string,
  host = "testhost",
): Promise<string[]> {
  const dir = `${dest}/${host}/${service}`;
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".packrat")) names.push(e.name);
  return names.sort().map((n) => `${dir}/${n}`);
}

/** Names in a directory, sorted; a missing directory counts as empty. */
export async function entries(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) names.push(e.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

/** Every file under a directory, as sorted relative paths (for "nothing was uploaded"). */
export async function filesUnder(path: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of await entries(path)) {
    const info = await Deno.lstat(`${path}/${name}`);
    if (info.isDirectory) out.push(...await filesUnder(`${path}/${name}`, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

/**
 * Runs `packrat ARGS` in tests/cli/permission_probe.ts (the product's permission set) and
 * returns what the command left itself allowed to do: its exit code, the permission states, and
 * whether spawning a process and writing a file in `scratch` still work.
 */
export async function permissionsAfter(scratch: string, args: string[]) {
  const out = await new Deno.Command(`${ROOT}/scripts/deno`, {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--config",
      `${ROOT}/deno.json`,
      "-P=packrat",
      `${ROOT}/tests/cli/permission_probe.ts`,
      scratch,
      ...args,
    ],
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("PROBE "));
  assert.ok(line, `no probe report: ${text}${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(line.slice("PROBE ".length));
}
