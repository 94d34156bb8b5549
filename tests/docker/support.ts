/**
 * The private dockerd the Docker tests use (scripts/services/dockerd, found through
 * DOCKER_HOST), and busybox containers that write a tick every 100 ms into a bind-mounted dir.
 *
 * @module
 */
import { entries, tempDir } from "../helpers.ts";

export function dockerHost(): string {
  const host = Deno.env.get("DOCKER_HOST");
  if (!host?.startsWith("unix://")) {
    throw new Error(
      "DOCKER_HOST is not set: start a private dockerd first: " +
        'eval "$(scripts/services/dockerd start DIR)"',
    );
  }
  return host;
}

/** Runs the docker CLI against the test engine (test setup only; the product never does). */
export async function docker(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("docker", {
    args: ["-H", dockerHost(), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (code !== 0) throw new Error(`docker ${args.join(" ")}: ${text.decode(stderr)}`);
  return text.decode(stdout).trim();
}

const LOOP = 'trap "exit 0" TERM; touch /data/alive; ' +
  "while true; do date +%s%N >> /data/ticks; sleep 0.1; done";

export interface TestContainer extends AsyncDisposable {
  name: string;
  data: string;
}

/**
 * A running busybox container writing ticks into a bind-mounted temp dir; removed on dispose.
 * `healthcheck`: none, the default one (/data/alive exists), or a command of the test's own.
 */
export async function container(healthcheck: boolean | string): Promise<TestContainer> {
  const dir = await tempDir("packrat-docker-");
  const name = `packrat-test-${crypto.randomUUID().slice(0, 8)}`;
  const health = healthcheck
    ? [
      "--health-cmd",
      typeof healthcheck === "string"
        ? healthcheck
        : "test -f /data/alive || { echo no /data/alive; exit 1; }",
      "--health-interval",
      "1s",
      "--health-retries",
      "1",
    ]
    : [];
  try {
    await docker(
      "run",
      "-d",
      "--name",
      name,
      "--network",
      "none",
      "-v",
      `${dir.path}:/data`,
      ...health,
      "local/busybox",
      "sh",
      "-c",
      LOOP,
    );
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
  return {
    name,
    data: dir.path,
    async [Symbol.asyncDispose]() {
      await docker("rm", "-f", "-v", name).catch(() => {});
      await dir[Symbol.asyncDispose]();
    },
  };
}

export async function ticks(c: TestContainer): Promise<number> {
  const text = await Deno.readTextFile(`${c.data}/ticks`).catch(() => "");
  return text.split("\n").filter(Boolean).length;
}

/** Bytes in the staging directory so far (a missing directory holds none). */
export async function stagedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await entries(dir).catch(() => [])) {
    total += (await Deno.stat(`${dir}/${name}`).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
