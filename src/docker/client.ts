/** A minimal Docker Engine API client over the unix socket: inspect, stop, start, wait for health. */
import { PackratError } from "../errors.ts";

/** The default socket when `DOCKER_HOST` is not set. */
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/** `State.Health.Status`, or `none` for a container without a healthcheck. */
export type Health = "none" | "starting" | "healthy" | "unhealthy";

/** What Packrat needs to know about a container. */
export interface ContainerInfo {
  id: string;
  /** The name without Docker's leading `/`. */
  name: string;
  running: boolean;
  /** `State.Status`: created, running, paused, restarting, removing, exited, dead. */
  status: string;
  health: Health;
  exitCode: number;
  /** The output of the newest healthcheck run, trimmed (empty without a healthcheck). */
  lastHealthOutput: string;
  /** `HostConfig.RestartPolicy.Name`: "no" (or empty), always, unless-stopped, on-failure. */
  restartPolicy: string;
}

/** Anything that went wrong talking to Docker. */
export class DockerError extends PackratError {}

/** The Docker socket is missing, refuses connections, or may not be opened by this user. */
export class DockerUnavailableError extends DockerError {}

/** The engine knows no container by that name. */
export class ContainerNotFoundError extends DockerError {
  constructor(readonly container: string) {
    super(`no container named ${container}`);
  }
}

/** A container did not reach the wanted state in time, or stopped while we waited for it. */
export class ContainerStateError extends DockerError {}

export interface DockerClientOptions {
  /** The unix socket path. Default: from `DOCKER_HOST`, else /var/run/docker.sock. */
  socket?: string;
  /** Timeout for one API call (stop adds its own grace period on top). Default 30 s. */
  requestTimeoutMs?: number;
  /** First poll interval of the wait functions; it grows to at most 500 ms. Default 50 ms. */
  pollIntervalMs?: number;
}

/**
 * The socket path from a `DOCKER_HOST` value (`unix:///path`), else the default socket.
 * Other schemes (tcp://, ssh://) are refused: Packrat talks to Docker over a unix socket only.
 */
export function dockerSocketPath(dockerHost: string | undefined): string {
  if (!dockerHost) return DEFAULT_DOCKER_SOCKET;
  if (dockerHost.startsWith("unix://")) {
    const path = dockerHost.slice("unix://".length);
    if (path.startsWith("/")) return path;
  }
  throw new DockerError(
    `DOCKER_HOST=${dockerHost} is not supported: Packrat talks to Docker over a unix socket; ` +
      `set DOCKER_HOST=unix:///path/to/docker.sock or unset it for ${DEFAULT_DOCKER_SOCKET}`,
  );
}

const MAX_POLL_MS = 500;
/** How long stop() waits for the engine beyond the container's own stop timeout. */
const STOP_GRACE_MS = 15_000;

/** Docker Engine API over a unix socket, with unversioned paths (works with API 1.41 engines). */
export class DockerClient implements Disposable {
  readonly socket: string;
  readonly #client: Deno.HttpClient;
  readonly #requestTimeoutMs: number;
  readonly #pollMs: number;

  constructor(options: DockerClientOptions = {}) {
    this.socket = options.socket ?? dockerSocketPath(Deno.env.get("DOCKER_HOST"));
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#pollMs = options.pollIntervalMs ?? 50;
    this.#client = Deno.createHttpClient({ proxy: { transport: "unix", path: this.socket } });
  }

  /** Releases the HTTP client. */
  close(): void {
    this.#client.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Checks that the engine answers; returns its API version (e.g. "1.41"). */
  async ping(): Promise<string> {
    const response = await this.#request("GET", "/_ping");
    await this.#expect(response, "ping Docker", [200]);
    return response.headers.get("api-version") ?? "unknown";
  }

  /** The container's id, state and health. Throws ContainerNotFoundError if there is none. */
  async inspect(name: string): Promise<ContainerInfo> {
    const response = await this.#request("GET", containerPath(name, "json"));
    const body = await this.#expect(response, `inspect container ${name}`, [200], name);
    let data: InspectResponse;
    try {
      data = JSON.parse(body);
    } catch {
      throw new DockerError(`inspect container ${name}: the engine sent invalid JSON`);
    }
    const state = data.State ?? {};
    const healthLog = state.Health?.Log ?? [];
    return {
      id: data.Id ?? "",
      name: (data.Name ?? name).replace(/^\//, ""),
      running: state.Running === true,
      status: state.Status ?? "unknown",
      health: parseHealth(state.Health?.Status),
      exitCode: state.ExitCode ?? 0,
      lastHealthOutput: (healthLog.at(-1)?.Output ?? "").trim(),
      restartPolicy: data.HostConfig?.RestartPolicy?.Name ?? "",
    };
  }

  /**
   * Stops the container: SIGTERM (or its StopSignal), then SIGKILL after `timeoutMs` (rounded up
   * to whole seconds, as the API takes). Returns false if it was not running.
   */
  async stop(name: string, timeoutMs: number): Promise<boolean> {
    const seconds = Math.max(0, Math.ceil(timeoutMs / 1000));
    const response = await this.#request(
      "POST",
      `${containerPath(name, "stop")}?t=${seconds}`,
      seconds * 1000 + STOP_GRACE_MS,
    );
    await this.#expect(response, `stop container ${name}`, [204, 304], name);
    return response.status === 204;
  }

  /** Starts the container. Returns false if it was already running. */
  async start(name: string): Promise<boolean> {
    const response = await this.#request("POST", containerPath(name, "start"));
    await this.#expect(response, `start container ${name}`, [204, 304], name);
    return response.status === 204;
  }

  /**
   * Waits until the container runs. Fails at once if it exited and no restart policy will bring
   * it back, else after `timeoutMs`.
   */
  waitRunning(name: string, timeoutMs: number): Promise<ContainerInfo> {
    return this.#waitFor(name, timeoutMs, "running", (info) => info.running);
  }

  /**
   * Waits until the container runs and, if it has a healthcheck, is healthy. An `unhealthy`
   * container is waited for too (it may recover); the timeout error shows the last check output.
   */
  waitHealthy(name: string, timeoutMs: number): Promise<ContainerInfo> {
    return this.#waitFor(
      name,
      timeoutMs,
      "healthy",
      (info) => info.running && (info.health === "none" || info.health === "healthy"),
    );
  }

  async #waitFor(
    name: string,
    timeoutMs: number,
    goal: string,
    done: (info: ContainerInfo) => boolean,
  ): Promise<ContainerInfo> {
    const deadline = Date.now() + timeoutMs;
    let interval = this.#pollMs;
    for (;;) {
      const info = await this.inspect(name);
      if (done(info)) return info;
      if (isGone(info)) {
        throw new ContainerStateError(
          `container ${name} stopped while waiting for it to be ${goal}: ${describe(info)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ContainerStateError(
          `container ${name} is not ${goal} after ${formatMs(timeoutMs)}: ${describe(info)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
      interval = Math.min(MAX_POLL_MS, Math.ceil(interval * 1.5));
    }
  }

  async #request(method: string, path: string, timeoutMs?: number): Promise<Response> {
    const ms = timeoutMs ?? this.#requestTimeoutMs;
    try {
      return await fetch(`http://localhost${path}`, {
        method,
        client: this.#client,
        signal: AbortSignal.timeout(ms),
      });
    } catch (error) {
      throw await this.#connectionError(error, ms);
    }
  }

  /** Reads the body; throws with the engine's message unless the status is one of `ok`. */
  async #expect(
    response: Response,
    what: string,
    ok: number[],
    container?: string,
  ): Promise<string> {
    let body: string;
    try {
      body = await response.text();
    } catch (error) {
      throw await this.#connectionError(error, this.#requestTimeoutMs);
    }
    if (ok.includes(response.status)) return body;
    if (response.status === 404 && container !== undefined) {
      throw new ContainerNotFoundError(container);
    }
    throw new DockerError(
      `${what}: Docker answered HTTP ${response.status}: ${engineMessage(body) || "no message"}`,
    );
  }

  /** Turns a fetch failure into a message that says what to do. */
  async #connectionError(error: unknown, timeoutMs: number): Promise<Error> {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return error;
    }
    const name = (error as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      return new DockerError(
        `Docker did not answer within ${formatMs(timeoutMs)} on ${this.socket}`,
        { cause: error },
      );
    }
    const text = `${error} ${(error as Error)?.cause ?? ""}`;
    const socket = this.socket;
    if (/os error 2\b|No such file or directory/.test(text)) {
      return new DockerUnavailableError(
        `no Docker socket at ${socket}; is Docker running? set DOCKER_HOST=unix:///path/to/docker.sock`,
        { cause: error },
      );
    }
    if (/os error 13\b|Permission denied/.test(text)) {
      return new DockerUnavailableError(
        `permission denied on ${socket}: add the user to the docker group (or run as root)`,
        { cause: error },
      );
    }
    if (/os error 111\b|Connection refused/.test(text)) {
      const info = await Deno.stat(socket).catch(() => undefined);
      if (info && info.isSocket === false) {
        return new DockerUnavailableError(
          `${socket} is not a socket; set DOCKER_HOST=unix:///path/to/docker.sock`,
          { cause: error },
        );
      }
      return new DockerUnavailableError(
        `nothing answers on ${socket} (connection refused); is Docker running?`,
        { cause: error },
      );
    }
    const detail = String((error as Error)?.cause ?? error).replace(/^Error: /, "");
    return new DockerError(`cannot talk to Docker on ${socket}: ${detail}`, { cause: error });
  }
}

interface InspectResponse {
  Id?: string;
  Name?: string;
  State?: {
    Status?: string;
    Running?: boolean;
    ExitCode?: number;
    Health?: { Status?: string; Log?: { Output?: string }[] };
  };
  HostConfig?: { RestartPolicy?: { Name?: string } };
}

/** The API path of a container operation; refuses an empty name (it would hit another route). */
function containerPath(name: string, operation: string): string {
  if (!name) throw new DockerError("no container name given");
  return `/containers/${encodeURIComponent(name)}/${operation}`;
}

function parseHealth(status: string | undefined): Health {
  switch (status) {
    case "starting":
    case "healthy":
    case "unhealthy":
      return status;
    default:
      return "none";
  }
}

/** True if the container exited and no restart policy will start it again. */
function isGone(info: ContainerInfo): boolean {
  if (info.status === "dead") return true;
  if (info.status !== "exited") return false;
  return info.restartPolicy === "" || info.restartPolicy === "no";
}

function describe(info: ContainerInfo): string {
  const parts = [`status ${info.status}`];
  if (info.status === "exited" || info.status === "dead") parts.push(`exit code ${info.exitCode}`);
  if (info.health !== "none") parts.push(`health ${info.health}`);
  if (info.health !== "none" && info.health !== "healthy" && info.lastHealthOutput) {
    parts.push(`last healthcheck output: ${info.lastHealthOutput.slice(0, 300)}`);
  }
  return parts.join(", ");
}

/** The `message` of an engine error body (`{"message": "..."}`), else the body itself. */
function engineMessage(body: string): string {
  try {
    const parsed = JSON.parse(body);
    if (typeof parsed?.message === "string") return parsed.message;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 500);
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
