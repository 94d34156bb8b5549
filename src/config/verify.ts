/**
 * @module Reads `verify` (under `backup:` as the default, and per service): when the daemon
 * re-reads stored backups, which ones, from where, and whether it repairs what it finds.
 */
import { parsedText, schedule } from "./fields.ts";
import { boolean, oneOf, optional, type Read, readMapping } from "./reader.ts";
import type { VerifyConfig } from "./types.ts";

const VERIFY_KEYS = ["schedule", "copies", "destinations", "repair", "max_rate"];

/** Without any `verify`: nothing scheduled; the newest backup on every destination. */
export const DEFAULT_VERIFY: VerifyConfig = {
  copies: "newest",
  destinations: "all",
  repair: false,
};

/**
 * Reads a `verify` mapping; keys it leaves out come from `defaults` (a service's from
 * `backup.verify`). `schedule: null`, or an empty string, turns a default schedule off.
 */
export function verifyIn(defaults: VerifyConfig): Read<VerifyConfig> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, VERIFY_KEYS);
    if (!mapping) return undefined;
    const scheduleEntry = mapping.entries.get("schedule");
    const off = scheduleEntry !== undefined &&
      (scheduleEntry.value === null || isEmptyText(scheduleEntry.value));
    const maxRate = optional(ctx, mapping, "max_rate", rate);
    return {
      schedule: off ? undefined : optional(ctx, mapping, "schedule", schedule) ?? defaults.schedule,
      copies: optional(ctx, mapping, "copies", oneOf(["newest", "all"] as const)) ??
        defaults.copies,
      destinations: optional(ctx, mapping, "destinations", oneOf(["all", "first"] as const)) ??
        defaults.destinations,
      repair: optional(ctx, mapping, "repair", boolean) ?? defaults.repair,
      maxBytesPerSecond: maxRate ?? defaults.maxBytesPerSecond,
    };
  };
}

function isEmptyText(node: unknown): boolean {
  const value = (node as { value?: unknown } | null)?.value;
  return typeof value === "string" && value.trim() === "";
}

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  ki: 1024,
  mi: 1024 ** 2,
  gi: 1024 ** 3,
};

/** A read rate such as `20MB/s`, `512KiB/s` or `1GB/s`: bytes per second. */
export function parseRate(source: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?)?b?\/s\s*$/i.exec(source);
  if (!match) throw new Error(`"${source}" is not a rate (write e.g. 20MB/s or 512KiB/s)`);
  const bytes = Number(match[1]) * UNITS[(match[2] ?? "").toLowerCase()];
  if (!(bytes >= 1024)) throw new Error(`"${source}" is too slow (at least 1KiB/s)`);
  return Math.round(bytes);
}

const rate: Read<number> = parsedText(parseRate);
