/**
 * DockerClient against a real dockerd (scripts/services/dockerd, found through DOCKER_HOST):
 * inspect, stop, start, waiting for health, and the errors users see.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ContainerNotFoundError,
  ContainerStateError,
  DockerClient,
  DockerError,
  dockerSocketPath,
  DockerUnavailableError,
} from "../../src/docker/client.ts";
import { PackratError } from "../../src/errors.ts";
import { ROOT, tempDir } from "../helpers.ts";
import { container, docker, dockerHost, ticks } from "./support.ts";

Deno.test("stop, start and wait for a container with a healthcheck", async (t) => {
  dockerHost();
  await using c = await container(true);
  using client = new DockerClient();

  await t.step("inspect: running, then healthy", async () => {
    const info = await client.inspect(c.name);
    assert.equal(info.name, c.name);
    assert.match(info.id, /^[0-9a-f]{64}$/);
    assert.equal(info.running, true);
    assert.ok(["starting", "healthy"].includes(info.health), info.health);
    const t0 = performance.now();
    const healthy = await client.waitHealthy(c.name, 15_000);
    assert.equal(healthy.health, "healthy");
    console.log(`  healthy after ${Math.round(performance.now() - t0)} ms`);
    // The id works as a name too.
    assert.equal((await client.inspect(info.id)).name, c.name);
  });

  await t.step("stop: not running, no more ticks", async () => {
    const t0 = performance.now();
    assert.equal(await client.stop(c.name, 10_000), true);
    const took = performance.now() - t0;
    console.log(`  stop took ${Math.round(took)} ms`);
    assert.ok(took < 5_000, `stop took ${took} ms: the container's TERM trap did not work`);
    const info = await client.inspect(c.name);
    assert.equal(info.running, false);
    assert.equal(info.status, "exited");
    assert.equal(info.exitCode, 0);
    const before = await ticks(c);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await ticks(c), before, "the container still writes after stop");
    // Stopping a stopped container is fine and says so.
    assert.equal(await client.stop(c.name, 1_000), false);
  });

  await t.step("waiting for a stopped container fails at once", async () => {
    const t0 = performance.now();
    await assert.rejects(client.waitRunning(c.name, 10_000), (error: Error) => {
      assert.ok(error instanceof ContainerStateError, String(error));
      assert.match(error.message, /container .* stopped while waiting for it to be running/);
      assert.match(error.message, /status exited, exit code 0/);
      return true;
    });
    assert.ok(performance.now() - t0 < 2_000);
  });

  await t.step("start: running, then healthy, ticking again", async () => {
    const before = await ticks(c);
    let t0 = performance.now();
    assert.equal(await client.start(c.name), true);
    console.log(`  start took ${Math.round(performance.now() - t0)} ms`);
    t0 = performance.now();
    const running = await client.waitRunning(c.name, 10_000);
    assert.equal(running.running, true);
    // Docker resets the health status when the container starts.
    assert.notEqual(running.health, "none");
    const healthy = await client.waitHealthy(c.name, 15_000);
    assert.equal(healthy.health, "healthy");
    console.log(`  healthy ${Math.round(performance.now() - t0)} ms after start`);
    assert.ok((await ticks(c)) > before, "no new ticks after start");
    // Starting a running container is fine and says so.
    assert.equal(await client.start(c.name), false);
  });

  await t.step("an unhealthy container times out with the healthcheck's output", async () => {
    await Deno.remove(`${c.data}/alive`);
    // Let the engine notice (one failed check, interval 1 s).
    const deadline = Date.now() + 10_000;
    while ((await client.inspect(c.name)).health !== "unhealthy") {
      assert.ok(Date.now() < deadline, "the container never became unhealthy");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const t0 = performance.now();
    await assert.rejects(client.waitHealthy(c.name, 1_000), (error: Error) => {
      assert.ok(error instanceof ContainerStateError, String(error));
      assert.equal(
        error.message,
        `container ${c.name} is not healthy after 1 s: status running, health unhealthy, ` +
          "last healthcheck output: no /data/alive",
      );
      return true;
    });
    const took = performance.now() - t0;
    assert.ok(took >= 950 && took < 3_000, `waited ${took} ms`);
  });
});

Deno.test("a container without a healthcheck is healthy once it runs", async () => {
  dockerHost();
  await using c = await container(false);
  using client = new DockerClient();
  const info = await client.waitHealthy(c.name, 10_000);
  assert.equal(info.running, true);
  assert.equal(info.health, "none");
  assert.equal(await client.stop(c.name, 10_000), true);
  assert.equal((await client.inspect(c.name)).health, "none");
  await client.start(c.name);
  assert.equal((await client.waitHealthy(c.name, 10_000)).running, true);
});

Deno.test("unknown container: ContainerNotFoundError for every call", async () => {
  dockerHost();
  using client = new DockerClient();
  const name = `packrat-missing-${crypto.randomUUID().slice(0, 8)}`;
  for (
    const call of [
      () => client.inspect(name),
      () => client.stop(name, 1_000),
      () => client.start(name),
      () => client.waitHealthy(name, 1_000),
    ]
  ) {
    await assert.rejects(call(), (error: Error) => {
      assert.ok(error instanceof ContainerNotFoundError, String(error));
      assert.ok(error instanceof PackratError);
      assert.equal(error.message, `no container named ${name}`);
      return true;
    });
  }
});

Deno.test("engine errors carry the engine's message", async () => {
  dockerHost();
  using client = new DockerClient();
  // A container whose command does not exist: the engine refuses to start it.
  const name = `packrat-test-${crypto.randomUUID().slice(0, 8)}`;
  await docker("create", "--name", name, "--network", "none", "local/busybox", "/no/such/cmd");
  try {
    await assert.rejects(client.start(name), (error: Error) => {
      assert.ok(error instanceof DockerError, String(error));
      assert.match(
        error.message,
        new RegExp(`^start container ${name}: Docker answered HTTP \\d{3}: .*/no/such/cmd`),
      );
      return true;
    });
  } finally {
    await docker("rm", "-f", name).catch(() => {});
  }
  // An empty name never reaches the engine (it would hit another route).
  await assert.rejects(client.start(""), /no container name given/);
});

Deno.test("missing socket: a clear error naming it and DOCKER_HOST", async () => {
  await using dir = await tempDir();
  const socket = `${dir.path}/nope/docker.sock`;
  const saved = Deno.env.get("DOCKER_HOST");
  Deno.env.set("DOCKER_HOST", `unix://${socket}`);
  try {
    using client = new DockerClient();
    assert.equal(client.socket, socket);
    const calls = [() => client.ping(), () => client.inspect("x"), () => client.stop("x", 1)];
    for (const call of calls) {
      await assert.rejects(call(), (error: Error) => {
        assert.ok(error instanceof DockerUnavailableError, String(error));
        assert.equal(
          error.message,
          `no Docker socket at ${socket}; is Docker running? ` +
            "set DOCKER_HOST=unix:///path/to/docker.sock",
        );
        return true;
      });
    }
  } finally {
    if (saved === undefined) Deno.env.delete("DOCKER_HOST");
    else Deno.env.set("DOCKER_HOST", saved);
  }
});

Deno.test("a socket nobody listens on, or not a socket: says so", async () => {
  await using dir = await tempDir();
  // A socket file without a listener: a hard link outlives the listener's own path.
  const listening = `${dir.path}/live.sock`;
  const dead = `${dir.path}/dead.sock`;
  const listener = Deno.listen({ transport: "unix", path: listening });
  await Deno.link(listening, dead);
  listener.close();
  {
    using client = new DockerClient({ socket: dead });
    await assert.rejects(client.ping(), (error: Error) => {
      assert.ok(error instanceof DockerUnavailableError, String(error));
      assert.equal(
        error.message,
        `nothing answers on ${dead} (connection refused); is Docker running?`,
      );
      return true;
    });
  }
  const file = `${dir.path}/plain`;
  await Deno.writeTextFile(file, "");
  using client = new DockerClient({ socket: file });
  await assert.rejects(client.inspect("x"), (error: Error) => {
    assert.ok(error instanceof DockerUnavailableError, String(error));
    assert.equal(
      error.message,
      `${file} is not a socket; set DOCKER_HOST=unix:///path/to/docker.sock`,
    );
    return true;
  });
});

Deno.test("DOCKER_HOST: unix:// paths, default socket, other schemes refused", () => {
  assert.equal(dockerSocketPath(undefined), "/var/run/docker.sock");
  assert.equal(dockerSocketPath(""), "/var/run/docker.sock");
  assert.equal(dockerSocketPath("unix:///run/user/1000/docker.sock"), "/run/user/1000/docker.sock");
  for (const bad of ["tcp://127.0.0.1:2375", "ssh://me@host", "unix://relative.sock"]) {
    assert.throws(() => dockerSocketPath(bad), (error: Error) => {
      assert.ok(error instanceof DockerError);
      assert.match(error.message, /is not supported: Packrat talks to Docker over a unix socket/);
      return true;
    });
  }
});

const PROBE = `${ROOT}/tests/docker/probe.ts`;

/** Runs probe.ts with exactly the product's permissions (no --allow-run, no prompts). */
async function probe(
  args: string[],
  options: { env?: Record<string, string>; user?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const deno = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--config",
    `${ROOT}/deno.json`,
    "-P=packrat",
    PROBE,
    ...args,
  ];
  const command = options.user === undefined ? deno : [
    "setpriv",
    `--reuid=${options.user}`,
    `--regid=${options.user}`,
    "--clear-groups",
    ...deno,
  ];
  const { code, stdout, stderr } = await new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout).trim(), stderr: text.decode(stderr).trim() };
}

Deno.test("works under the product's permission set (-P=packrat)", async () => {
  dockerHost();
  await using c = await container(false);
  const result = await probe(["inspect", c.name]);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const info = JSON.parse(result.stdout);
  assert.equal(info.name, c.name);
  assert.equal(info.running, true);
});

Deno.test("permission denied on the socket: add the user to the docker group", async (t) => {
  const socket = dockerHost().slice("unix://".length);
  const { mode, uid, gid } = await Deno.stat(socket);
  const isRoot = Deno.uid() === 0;
  const blocked = (mode! & 0o006) === 0 && uid !== 65534 && gid !== 65534;
  if (!isRoot || !blocked) {
    console.log("  skipped: needs root and a socket that user nobody may not open");
    return;
  }
  await using home = await tempDir("packrat-nobody-");
  await Deno.chmod(home.path, 0o777);
  // User nobody (not in the docker group) runs the same client against the same socket. The
  // probe needs a Deno cache it may write to.
  const result = await probe(["ping"], {
    user: 65534,
    env: { DOCKER_HOST: `unix://${socket}`, DENO_DIR: `${home.path}/deno`, HOME: home.path },
  });
  if (result.code !== 0 && !result.stdout.startsWith("ERROR")) {
    // nobody could not even run Deno here (e.g. the checkout is not readable): nothing to test.
    await t.step({ name: "nobody cannot run deno here", ignore: true, fn: () => {} });
    console.log(`  skipped: ${result.stderr.split("\n").slice(0, 3).join(" / ")}`);
    return;
  }
  assert.equal(
    result.stdout,
    `ERROR DockerUnavailableError: permission denied on ${socket}: ` +
      "add the user to the docker group (or run as root)",
    result.stderr,
  );
});
