/** @module The human-readable text of a run event, for ntfy messages and healthchecks pings. */

import { formatBytes } from "../io/files.ts";
import type { RunEvent } from "./notify.ts";

/**
 * One line about the run, without service and host.
 *
 * @example
 * ```ts
 * describeRun(event); // "backup 20261130T021500.123Z stored on local, s3 (12.3 MB) in 4.2 s"
 * ```
 */
export function describeRun(event: RunEvent): string {
  const reason = event.error ?? "no reason given";
  switch (event.status) {
    case "succeeded":
      return `${backupStored(event)}${took(event)}`;
    case "partial":
      return `${backupStored(event)}${took(event)}, but not everywhere: ${reason}`;
    case "failed":
      return `${event.kind === "verify" ? "verify" : "backup"} failed: ${reason}`;
    case "stale":
      return event.error ? `backup overdue: ${event.error}` : "backup overdue";
    case "damaged":
      return `verify found a copy that cannot be restored: ${reason}`;
    case "verified":
      return `every copy read back intact${took(event)}`;
  }
}

/** A backup stored everywhere, or a verify that found every copy intact. */
export function isGoodNews(event: RunEvent): boolean {
  return event.status === "succeeded" || event.status === "verified";
}

/** `text` cut to at most `maxBytes` of UTF-8, marked when cut; never splits a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  const marker = "\n[truncated]";
  const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes - marker.length));
  return `${text.slice(0, read)}${marker}`;
}

function backupStored(event: RunEvent): string {
  const backup = event.backupId ? `backup ${event.backupId}` : "backup";
  const destinations = Object.keys(event.sizes);
  if (destinations.length === 0) return `${backup} finished`;
  // Every destination stores the same archive; the largest size covers a mismatch.
  const size = Math.max(...Object.values(event.sizes));
  return `${backup} stored on ${destinations.join(", ")} (${formatBytes(size)})`;
}

function took(event: RunEvent): string {
  return event.durationMs === undefined ? "" : ` in ${formatDuration(event.durationMs)}`;
}

function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
