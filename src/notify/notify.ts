/** @module Notifications: the run event, the interface every sender implements, the dispatcher. */

import { readSecret } from "../config/secrets.ts";
import type { NotifyConfig, Secret } from "../config/types.ts";
import { messageOf } from "../errors.ts";
import type { Logger } from "../ui/log.ts";
import { healthchecks } from "./healthchecks.ts";
import { NotifyRequestError, redactUrl } from "./http.ts";
import { ntfy } from "./ntfy.ts";
import { webhook } from "./webhook.ts";

export type RunStatus = "succeeded" | "failed" | "partial" | "stale" | "damaged" | "verified";

/**
 * How a run ended, or that a service has had no successful backup for too long ("stale"), or
 * what reading stored copies back found: a copy damaged or unreadable ("damaged", sent whatever
 * `on` says), or every copy read intact ("verified", only under `on: always`).
 */
export interface RunEvent {
  readonly service: string;
  /** What ran: a backup (the default) or a verify of stored copies. */
  readonly kind?: "backup" | "verify";
  readonly host: string;
  readonly status: RunStatus;
  /** What went wrong; absent on success. */
  readonly error?: string;
  /** Absent for "stale". */
  readonly durationMs?: number;
  /** "damaged": the destinations whose copies failed. */
  readonly destinations?: readonly string[];
  /** Encrypted bytes per destination name ("local", "s3", "synology") that stored the backup. */
  readonly sizes: Readonly<Record<string, number>>;
  readonly backupId?: string;
  /** When the run finished, or when the stale check fired. */
  readonly time: Date;
  /**
   * Set on a failure that will be tried again then: only healthchecks hears of it (it tracks
   * every run); the others hear of the last try only.
   */
  readonly retryAt?: Date;
}

/**
 * One kind of notification target. `started` and `finished` send one request to `url` and
 * resolve once the target accepted it (a 2xx answer); they throw otherwise, with a message that
 * never contains the URL. Retries, timeouts and logging belong to the dispatcher, not here.
 */
export interface Sender {
  readonly name: "webhook" | "ntfy" | "healthchecks";
  /** A run begins (only healthchecks does anything). */
  started?(service: string, url: string, signal: AbortSignal): Promise<void>;
  /** A run ended, or a stale check fired. */
  finished(event: RunEvent, url: string, signal: AbortSignal): Promise<void>;
  /** Whether this sender wants this event under the given `on` setting. */
  wants(event: RunEvent, on: "failure" | "always"): boolean;
}

/** What the daemon calls around each run. */
export interface Notifier {
  /** A run of `service` begins. Never throws; errors are logged. */
  started(service: string): Promise<void>;
  /**
   * A run ended (or a stale check fired). Never throws; errors are logged. Resolves to whether
   * every target that wanted the event accepted it.
   */
  finished(event: RunEvent): Promise<boolean>;
}

export interface NotifierOptions {
  /** Pauses between tries; one more try than there are delays. Default: 1 s, then 4 s. */
  readonly retryDelaysMs?: readonly number[];
  /** Limit for each request. Default: 10 s. */
  readonly timeoutMs?: number;
}

const SENDERS: readonly Sender[] = [webhook, ntfy, healthchecks];

/**
 * The notifier for a service's `notify` setting; without one, a notifier that does nothing.
 * It reads each target's URL when it sends (so `url_file` may be rotated), sends to all targets
 * in parallel, each request with a timeout and a few retries, and turns the last failure into
 * one warning. Target URLs carry tokens (an ntfy topic, a healthchecks UUID, a webhook secret),
 * so no log line contains one.
 *
 * @example
 * ```ts
 * const notifier = notifierFor(service.notify, stderrLogger());
 * await notifier.started("gitea");
 * await notifier.finished({ service: "gitea", host, status: "failed", error, sizes: {}, time });
 * ```
 */
export function notifierFor(
  config: NotifyConfig | undefined,
  log: Logger,
  options: NotifierOptions = {},
): Notifier {
  const retryDelaysMs = options.retryDelaysMs ?? [1000, 4000];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const targets = SENDERS.flatMap((sender) => {
    const target = config?.[sender.name];
    return target ? [{ sender, url: target.url }] : [];
  });

  // Never rejects: the last failure becomes one warning, and false.
  const deliver = async (
    what: string,
    url: Secret,
    send: (url: string, signal: AbortSignal) => Promise<void>,
  ): Promise<boolean> => {
    let address: string | undefined;
    try {
      address = await readSecret(url);
      for (let attempt = 0;; attempt++) {
        try {
          await send(address, AbortSignal.timeout(timeoutMs));
          return true;
        } catch (error) {
          const permanent = error instanceof NotifyRequestError && error.permanent;
          if (permanent || attempt >= retryDelaysMs.length) throw error;
          await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[attempt]));
        }
      }
    } catch (error) {
      log.warn(`${what} failed: ${reasonOf(error, address, timeoutMs)}`);
      return false;
    }
  };

  return {
    async started(service) {
      await Promise.all(
        targets.filter(({ sender }) => sender.started).map(({ sender, url }) =>
          deliver(
            `${service}: ${sender.name} start ping`,
            url,
            async (address, signal) => await sender.started?.(service, address, signal),
          )
        ),
      );
    },
    async finished(event) {
      const on = config?.on ?? "failure";
      const accepted = await Promise.all(
        targets.filter(({ sender }) => sender.wants(event, on)).map(({ sender, url }) =>
          deliver(
            `${event.service}: ${sender.name} notification`,
            url,
            (address, signal) => sender.finished(event, address, signal),
          )
        ),
      );
      return accepted.every((ok) => ok);
    },
  };
}

function reasonOf(error: unknown, url: string | undefined, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  const message = messageOf(error);
  return url === undefined ? message : redactUrl(message, url);
}
