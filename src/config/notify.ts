/** @module Reads `notify`: when to notify, and which webhook, ntfy and healthchecks URLs. */

import { secretField } from "./fields.ts";
import { isSet, oneOf, optional, type Read, readMapping, report } from "./reader.ts";
import type { NotifyConfig, NotifyTarget } from "./types.ts";

const TARGETS = ["webhook", "ntfy", "healthchecks"] as const;
const NOTIFY_KEYS = ["on", ...TARGETS];

/**
 * Reads a `notify` mapping. `notify: {}` means "no notifications" (a service's `notify` replaces
 * the global one, so this silences one service); setting `on` without a target is refused,
 * since it would silence the service by accident.
 */
export function notifyIn(home: string): Read<NotifyConfig> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, NOTIFY_KEYS);
    if (!mapping) return undefined;
    const on = optional(ctx, mapping, "on", oneOf(["failure", "always"] as const)) ?? "failure";
    if (isSet(mapping, "on") && !TARGETS.some((target) => isSet(mapping, target))) {
      report(
        ctx,
        entry.key,
        `${entry.path} sets "on" but no ${TARGETS.join(", ")}; ` +
          `a notify section replaces the global one, so list its targets here too`,
      );
    }
    const [webhook, ntfy, healthchecks] = TARGETS.map((target) =>
      optional(ctx, mapping, target, targetIn(home))
    );
    return { on, webhook, ntfy, healthchecks };
  };
}

function targetIn(home: string): Read<NotifyTarget> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, ["url", "url_file"]);
    if (!mapping) return undefined;
    const url = secretField(ctx, mapping, "url", home, checkHttpUrl);
    if (!isSet(mapping, "url") && !isSet(mapping, "url_file")) {
      report(ctx, entry.key, `${entry.path} needs url (or url_file)`);
    }
    return url && { url };
  };
}

// The URL may hold a token, so the message must not quote it.
function checkHttpUrl(value: string): string | undefined {
  const protocol = URL.canParse(value) ? new URL(value).protocol : "";
  return protocol === "http:" || protocol === "https:"
    ? undefined
    : "must be an http:// or https:// URL";
}
