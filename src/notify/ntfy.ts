/** @module The ntfy sender: POSTs a short message with title, priority and tags to a topic. */

import { request } from "./http.ts";
import { describeRun, isGoodNews, truncateUtf8 } from "./message.ts";
import type { RunEvent, RunStatus, Sender } from "./notify.ts";

// ntfy turns longer messages into attachments, which many servers do not allow.
const MESSAGE_LIMIT = 4096;

const LOOK: Record<RunStatus, { title: string; priority: string; tags: string }> = {
  succeeded: { title: "backed up", priority: "default", tags: "white_check_mark" },
  partial: { title: "backed up in part", priority: "high", tags: "warning" },
  failed: { title: "failed", priority: "high", tags: "x" },
  stale: { title: "backup overdue", priority: "high", tags: "hourglass" },
  damaged: { title: "damaged copy", priority: "urgent", tags: "rotating_light" },
  verified: { title: "verified", priority: "low", tags: "white_check_mark" },
};

/** Every event but a success or a passed verify; those too under `on: always`. */
export const ntfy: Sender = {
  name: "ntfy",
  wants: (event, on) => event.retryAt === undefined && (!isGoodNews(event) || on === "always"),
  async finished(event, url, signal) {
    const look = event.kind === "verify" && event.status === "failed"
      ? { ...LOOK.failed, title: "verify failed" }
      : LOOK[event.status];
    await request(url, {
      method: "POST",
      headers: {
        // ntfy refuses headers that are not ASCII; the message body may be any UTF-8.
        "Title": asciiOnly(`Packrat: ${event.service} ${look.title}`),
        "Priority": look.priority,
        "Tags": look.tags,
        "Content-Type": "text/plain; charset=utf-8",
      },
      body: truncateUtf8(ntfyMessage(event), MESSAGE_LIMIT),
    }, signal);
  },
};

/** The message body, e.g. `gitea on nas: backup failed: pg_dump exited with 1`. */
export function ntfyMessage(event: RunEvent): string {
  return `${event.service} on ${event.host}: ${describeRun(event)}`;
}

function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}
