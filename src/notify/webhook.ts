/** @module The webhook sender: POSTs each run event as one JSON object to a URL of your own. */

import { request } from "./http.ts";
import { isGoodNews } from "./message.ts";
import type { RunEvent, Sender } from "./notify.ts";

/**
 * The JSON a webhook receives. Absent values are `null`, so every key is always there.
 *
 * @example
 * ```json
 * {"service":"gitea","host":"nas","status":"failed","error":"pg_dump exited with 1",
 *  "duration_seconds":4.2,"sizes":{},"backup_id":null,"time":"2026-11-30T02:15:04.200Z"}
 * ```
 */
export function webhookPayload(event: RunEvent): Record<string, unknown> {
  return {
    service: event.service,
    host: event.host,
    status: event.status,
    error: event.error ?? null,
    duration_seconds: event.durationMs === undefined ? null : event.durationMs / 1000,
    sizes: event.sizes,
    backup_id: event.backupId ?? null,
    time: event.time.toISOString(),
  };
}

/** Every event but a success or a passed verify; those too under `on: always`. */
export const webhook: Sender = {
  name: "webhook",
  wants: (event, on) => event.retryAt === undefined && (!isGoodNews(event) || on === "always"),
  async finished(event, url, signal) {
    await request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(webhookPayload(event)),
    }, signal);
  },
};
