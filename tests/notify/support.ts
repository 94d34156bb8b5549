/**
 * Notification test support: a real HTTP listener on 127.0.0.1 that records what it receives,
 * a port nothing listens on, a logger that keeps its lines, and run events.
 *
 * @module
 */
import type { Logger } from "../../src/ui/log.ts";
import type { RunEvent } from "../../src/notify/notify.ts";

export interface Received {
  readonly method: string;
  /** Path and query, e.g. `/uuid/fail?create=1`. */
  readonly path: string;
  readonly headers: Headers;
  readonly body: string;
}

export interface Listener extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly url: string;
  readonly received: Received[];
}

/** Listens on a free port, answering every request with `answer` (default `200 OK`). */
export function listen(
  answer: (received: Received) => Response | Promise<Response> = () => new Response("OK"),
): Listener {
  const received: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const entry = {
      method: request.method,
      path: `${url.pathname}${url.search}`,
      headers: request.headers,
      body: await request.text(),
    };
    received.push(entry);
    return await answer(entry);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A port on 127.0.0.1 that was free a moment ago, so connecting to it is refused. */
export function refusingPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** A logger that keeps `info: …`, `warn: …` and `error: …` lines. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(`info: ${message}`),
    warn: (message) => lines.push(`warn: ${message}`),
    error: (message) => lines.push(`error: ${message}`),
  };
}

/** A failed run of `gitea` on `myhost`, with `changes` applied. */
export function runEvent(changes: Partial<RunEvent> = {}): RunEvent {
  return {
    service: "gitea",
    host: "myhost",
    status: "failed",
    error: "pre_backup exited with status 1",
    durationMs: 4200,
    sizes: {},
    time: new Date("2026-11-30T02:15:04.200Z"),
    ...changes,
  };
}

/** A successful run of `gitea` that stored 12.3 MB on local and s3. */
export function succeeded(changes: Partial<RunEvent> = {}): RunEvent {
  return runEvent({
    status: "succeeded",
    error: undefined,
    backupId: "20261130T021500.000Z",
    sizes: { local: 12_345_678, s3: 12_345_678 },
    ...changes,
  });
}
