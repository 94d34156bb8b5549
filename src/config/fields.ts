/** @module Readers for the kinds of value Packrat's config uses in several places. */

import type { Node } from "yaml";
import { globToRegExp } from "../archive/glob.ts";
import { parseSchedule } from "./cron.ts";
import { localPath } from "./paths.ts";
import {
  childPath,
  type Entry,
  integer,
  isSet,
  type Mapping,
  optional,
  type Read,
  type ReadContext,
  readMapping,
  report,
  text,
  valueNode,
} from "./reader.ts";
import type { RetentionPolicy, Secret } from "./types.ts";

/** An absolute local path, `~` expanded against `home`. */
export function localPathIn(home: string): Read<string> {
  return (ctx, entry) => {
    const value = text()(ctx, entry);
    if (value === undefined) return undefined;
    const path = localPath(value, home);
    if (path === undefined) {
      report(
        ctx,
        valueNode(entry),
        `${entry.path}: "${value}" must be an absolute path or start with ~/`,
      );
    }
    return path;
  };
}

/** True for names that are safe as one path segment: service names, `backup.host`. */
export function isPathSegment(name: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(name) && name !== "." && name !== "..";
}

/** Why `name` is not a path segment, for messages. */
export function pathSegmentRule(name: string): string {
  return name === "." || name === ".."
    ? `it cannot be "." or ".."`
    : `use only letters, digits, ".", "_" and "-" (it becomes a directory name)`;
}

/** A host name for the archive layout `<dest>/<host>/<service>/…`. */
export const hostName: Read<string> = (ctx, entry) => {
  const value = text()(ctx, entry);
  if (value !== undefined && !isPathSegment(value)) {
    report(
      ctx,
      valueNode(entry),
      `${entry.path}: "${value}" is not valid: ${pathSegmentRule(value)}`,
    );
    return undefined;
  }
  return value;
};

/**
 * A string turned into a value by `parse`; what `parse` throws is reported at the value, after
 * the key's path.
 */
export function parsedText<T>(parse: (value: string) => T): Read<T> {
  return (ctx, entry) => {
    const value = text()(ctx, entry);
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (error) {
      report(ctx, valueNode(entry), `${entry.path}: ${(error as Error).message}`);
      return undefined;
    }
  };
}

/** A cron schedule, returned as a 5-field expression. */
export const schedule: Read<string> = parsedText(parseSchedule);

/**
 * A glob as `exclude` takes it, compiled by the same code the backup uses, so that a bad pattern
 * is a config error before anything runs rather than a failure halfway through a backup.
 */
export const globPattern: Read<string> = parsedText((value) => {
  globToRegExp(value);
  return value;
});

/** An IANA time zone, returned in its canonical spelling ("europe/berlin" → "Europe/Berlin"). */
export const timeZone: Read<string> = (ctx, entry) => {
  const value = text()(ctx, entry);
  if (value === undefined) return undefined;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    report(
      ctx,
      valueNode(entry),
      `${entry.path}: "${value}" is not a known time zone (use an IANA name such as Europe/Berlin)`,
    );
    return undefined;
  }
};

/**
 * The secret `name`, given inline (`name`) or as a file (`name_file`); undefined when neither
 * is set. `check` validates an inline value without ever quoting it.
 */
export function secretField(
  ctx: ReadContext,
  mapping: Mapping,
  name: string,
  home: string,
  check?: (value: string) => string | undefined,
): Secret | undefined {
  const fileName = `${name}_file`;
  const inlineKey = childPath(mapping.path, name);
  const fileKey = childPath(mapping.path, fileName);
  if (isSet(mapping, name) && isSet(mapping, fileName)) {
    report(ctx, laterKey(mapping, name, fileName), `set ${inlineKey} or ${fileKey}, not both`);
    return undefined;
  }
  const inline = mapping.entries.get(name);
  if (inline && inline.value !== null) return inlineSecret(ctx, inline, check);
  const path = optional(ctx, mapping, fileName, localPathIn(home));
  return path === undefined ? undefined : { kind: "file", path, key: fileKey };
}

function inlineSecret(
  ctx: ReadContext,
  entry: Entry,
  check?: (value: string) => string | undefined,
): Secret | undefined {
  const value = text()(ctx, entry);
  if (value === undefined) return undefined;
  const problem = check?.(value);
  if (problem !== undefined) {
    report(ctx, valueNode(entry), `${entry.path} ${problem}`);
    return undefined;
  }
  return { kind: "inline", value, key: entry.path };
}

/** Of two keys that are both set, the one written later: where a "not both" problem points. */
export function laterKey(mapping: Mapping, a: string, b: string): Node | undefined {
  const keyA = mapping.entries.get(a)?.key;
  const keyB = mapping.entries.get(b)?.key;
  return (keyA?.range?.[0] ?? 0) > (keyB?.range?.[0] ?? 0) ? keyA : keyB;
}

const CALENDAR_KEYS = ["last", "daily", "weekly", "monthly", "yearly"] as const;

/**
 * The retention set at one level (a service, or `backup` for the default): `retain_backups`
 * or `retain`, never both. Undefined when the level sets none.
 */
export function retentionField(ctx: ReadContext, mapping: Mapping): RetentionPolicy | undefined {
  if (isSet(mapping, "retain_backups") && isSet(mapping, "retain")) {
    const both = `${childPath(mapping.path, "retain_backups")} or ${
      childPath(mapping.path, "retain")
    }`;
    report(ctx, laterKey(mapping, "retain_backups", "retain"), `set ${both}, not both`);
    return undefined;
  }
  const keep = optional(ctx, mapping, "retain_backups", integer(1));
  if (keep !== undefined) return { kind: "count", keep };
  return optional(ctx, mapping, "retain", calendarRetention);
}

const calendarRetention: Read<RetentionPolicy> = (ctx, entry) => {
  const mapping = readMapping(ctx, entry, CALENDAR_KEYS);
  if (!mapping) return undefined;
  const problemsBefore = ctx.problems.length;
  const [last, daily, weekly, monthly, yearly] = CALENDAR_KEYS.map((key) =>
    optional(ctx, mapping, key, integer(0)) ?? 0
  );
  // After a bad count, "keeps nothing" would only be noise.
  if (ctx.problems.length > problemsBefore) return undefined;
  if (last + daily + weekly + monthly + yearly === 0) {
    report(
      ctx,
      entry.key,
      `${entry.path} keeps nothing: set at least one of ${CALENDAR_KEYS.join(", ")} above 0`,
    );
    return undefined;
  }
  return { kind: "calendar", last, daily, weekly, monthly, yearly };
};
