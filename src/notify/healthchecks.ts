/** @module The healthchecks.io sender: start, success and `/fail` pings to a check's URL. */

import { request } from "./http.ts";
import { describeRun, truncateUtf8 } from "./message.ts";
import type { Sender } from "./notify.ts";

// Healthchecks keeps the first 100 kB of a ping's body.
const BODY_LIMIT = 100_000;

/**
 * Pings as https://healthchecks.io/docs/http_api/ describes. Healthchecks notices missing pings
 * itself, so it gets no stale checks, and it gets every run whatever `on` says. Its check
 * tracks the backups: a passed verify is not one (no ping), a damaged copy fails it.
 */
export const healthchecks: Sender = {
  name: "healthchecks",
  wants: (event) =>
    event.status !== "stale" && (event.kind !== "verify" || event.status === "damaged"),
  async started(_service, url, signal) {
    await request(pingUrl(url, "/start"), { method: "GET" }, signal);
  },
  async finished(event, url, signal) {
    const failed = event.status !== "succeeded";
    const retry = event.retryAt ? `\n(trying again at ${event.retryAt.toISOString()})` : "";
    const body = failed ? `${event.error ?? describeRun(event)}${retry}` : describeRun(event);
    await request(pingUrl(url, failed ? "/fail" : ""), {
      method: "POST",
      headers: { "Content-Type": "text/plain; charset=utf-8" },
      body: truncateUtf8(body, BODY_LIMIT),
    }, signal);
  },
};

/** The check's URL with one trailing `/` removed and `suffix` appended, before any query. */
export function pingUrl(url: string, suffix: string): string {
  const queryAt = url.indexOf("?");
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? "" : url.slice(queryAt);
  return `${path.endsWith("/") ? path.slice(0, -1) : path}${suffix}${query}`;
}
