/** @module Reads YAML nodes into typed values, collecting every problem with its file:line:column. */

import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter } from "yaml";
import type { Node, YAMLMap } from "yaml";
import type { SourcePosition } from "../errors.ts";
import { parseDuration } from "./duration.ts";
import { closestWord } from "./suggest.ts";

/** One thing wrong with the config file, and where. */
export interface Problem {
  readonly message: string;
  readonly position: SourcePosition;
}

/** What reading one file needs: where positions come from and where problems go. */
export interface ReadContext {
  readonly file: string;
  readonly lines: LineCounter;
  readonly doc: Document;
  readonly problems: Problem[];
}

/** One `key: value` of a mapping (or one item of a list). */
export interface Entry {
  /** Names the entry in messages: `services.gitea.path`, `services.gitea.exclude[2]`. */
  readonly path: string;
  /** The key, where problems about the entry as a whole point; undefined for the document. */
  readonly key: Node | undefined;
  /** The value with aliases resolved; null when the file leaves it empty or writes `null`. */
  readonly value: Node | null;
}

/** A mapping whose keys have been checked against the keys it may have. */
export interface Mapping {
  readonly path: string;
  /** Where "missing key" problems point: the key that introduces this mapping. */
  readonly at: Node | undefined;
  /** Known keys in file order; keys merged in with `<<` come after the mapping's own. */
  readonly entries: ReadonlyMap<string, Entry>;
}

/** Reads one entry's value; returns undefined (after reporting why) when it is unusable. */
export type Read<T> = (ctx: ReadContext, entry: Entry) => T | undefined;

/** Records a problem at `node`'s position (the start of the file when there is no node). */
export function report(ctx: ReadContext, node: Node | undefined, message: string): void {
  const { line, col } = ctx.lines.linePos(node?.range?.[0] ?? 0);
  ctx.problems.push({ message, position: { file: ctx.file, line, column: col } });
}

/** Where problems about an entry's value point: the value, or the key when the value is empty. */
export function valueNode(entry: Entry): Node | undefined {
  return entry.value ?? entry.key;
}

/** `parent.key`, or just `key` at the top level; odd keys are quoted (`services."a/b"`). */
export function childPath(parent: string, key: string): string {
  const name = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return parent === "" ? name : `${parent}.${name}`;
}

/** The entry for the whole document. */
export function rootEntry(ctx: ReadContext): Entry {
  return { path: "", key: undefined, value: resolve(ctx, ctx.doc.contents) };
}

/** True when `key` is set to something other than null. */
export function isSet(mapping: Mapping, key: string): boolean {
  return (mapping.entries.get(key)?.value ?? null) !== null;
}

/** Reads `key` if it is set; undefined when it is absent, null, or unusable (then reported). */
export function optional<T>(
  ctx: ReadContext,
  mapping: Mapping,
  key: string,
  read: Read<T>,
): T | undefined {
  const entry = mapping.entries.get(key);
  return entry && entry.value !== null ? read(ctx, entry) : undefined;
}

/** Reads `key`, reporting "is required" when it is absent or null. */
export function required<T>(
  ctx: ReadContext,
  mapping: Mapping,
  key: string,
  read: Read<T>,
): T | undefined {
  const entry = mapping.entries.get(key);
  if (entry === undefined || entry.value === null) {
    report(ctx, entry?.key ?? mapping.at, `${childPath(mapping.path, key)} is required`);
    return undefined;
  }
  return read(ctx, entry);
}

/**
 * Reads a mapping. With `allowedKeys`, any other key is reported as unknown, with the closest
 * allowed key as a suggestion; without, every key is accepted (service names, variables).
 * Duplicate keys are reported here rather than by the YAML parser so that the message can say
 * which mapping they are in.
 */
export function readMapping(
  ctx: ReadContext,
  entry: Entry,
  allowedKeys?: readonly string[],
): Mapping | undefined {
  const node = entry.value;
  if (!isMap(node)) {
    report(ctx, valueNode(entry), `${label(entry.path)} must be a mapping, not ${describe(node)}`);
    return undefined;
  }
  const entries = new Map<string, Entry>();
  for (const [key, keyNode, value] of pairsOf(ctx, node, entry.path)) {
    if (allowedKeys && !allowedKeys.includes(key)) {
      report(ctx, keyNode, unknownKeyMessage(key, entry.path, allowedKeys));
    } else if (!entries.has(key)) {
      entries.set(key, { path: childPath(entry.path, key), key: keyNode, value });
    }
  }
  return { path: entry.path, at: entry.key ?? node, entries };
}

type KeyValue = [key: string, keyNode: Node, value: Node | null];

/** The mapping's own pairs, then those merged in with `<<` that it does not override. */
function pairsOf(ctx: ReadContext, map: YAMLMap, path: string): KeyValue[] {
  const own: KeyValue[] = [];
  const merged: KeyValue[] = [];
  const lineOf = new Map<string, number>();
  for (const pair of map.items) {
    const keyNode = isNode(pair.key) ? pair.key : undefined;
    const value = resolve(ctx, pair.value);
    if (isMergeKey(keyNode)) {
      merged.push(...mergedPairs(ctx, keyNode, value, path));
      continue;
    }
    const key = keyText(ctx, keyNode, path);
    if (key === undefined || keyNode === undefined) continue;
    if (isScalar(pair.value) && pair.value.value === null && pair.value.source === "~") {
      // YAML reads a bare ~ as null, but in paths here `~` means the home directory: whoever
      // writes it almost certainly did not mean "no value".
      report(
        ctx,
        pair.value,
        `${childPath(path, key)}: a bare ~ means "no value" in YAML; ` +
          `write "~" in quotes (for paths: the home directory), or leave the key out`,
      );
    }
    const firstLine = lineOf.get(key);
    if (firstLine !== undefined) {
      const where = path === "" ? "at the top level" : `in ${path}`;
      report(ctx, keyNode, `duplicate key "${key}" ${where} (first set on line ${firstLine})`);
      continue;
    }
    lineOf.set(key, ctx.lines.linePos(keyNode.range?.[0] ?? 0).line);
    own.push([key, keyNode, value]);
  }
  const seen = new Set(lineOf.keys());
  for (const pair of merged) {
    if (seen.has(pair[0])) continue;
    seen.add(pair[0]);
    own.push(pair);
  }
  return own;
}

// With the parser's `merge` option a plain `<<` key is parsed to a symbol, not a string.
function isMergeKey(node: Node | undefined): boolean {
  return isScalar(node) && typeof node.value === "symbol";
}

/** The pairs of `<<: *anchor` or `<<: [*a, *b]`; earlier sources win, as YAML specifies. */
function mergedPairs(
  ctx: ReadContext,
  keyNode: Node | undefined,
  value: Node | null,
  path: string,
): KeyValue[] {
  const sources = isSeq(value) ? value.items.map((item) => resolve(ctx, item)) : [value];
  const pairs: KeyValue[] = [];
  for (const source of sources) {
    if (isMap(source)) pairs.push(...pairsOf(ctx, source, path));
    else report(ctx, source ?? keyNode, `${label(path)}: << can only merge mappings`);
  }
  return pairs;
}

/** Keys are names: strings, or numbers and booleans taken as written. */
function keyText(ctx: ReadContext, node: Node | undefined, path: string): string | undefined {
  const text = isScalar(node) ? scalarText(node, true) : undefined;
  if (text === undefined) report(ctx, node, `${label(path)}: keys must be plain names`);
  return text;
}

function unknownKeyMessage(key: string, path: string, allowed: readonly string[]): string {
  const where = path === "" ? "at the top level" : `in ${path}`;
  const guess = closestWord(key, allowed);
  const hint = guess ? ` — did you mean "${guess}"?` : ` (allowed keys: ${allowed.join(", ")})`;
  return `unknown key "${key}" ${where}${hint}`;
}

/** Follows aliases; an absent or `null` value becomes null. */
function resolve(ctx: ReadContext, value: unknown): Node | null {
  let node = isNode(value) ? value : null;
  while (isAlias(node)) {
    const target: Node | undefined = node.resolve(ctx.doc);
    // The parser accepts an alias to an anchor that does not exist; only use would fail.
    if (target === undefined) {
      report(ctx, node, `unknown anchor: *${node.source} is not defined above`);
    }
    node = target ?? null;
  }
  return isScalar(node) && node.value === null ? null : node;
}

/**
 * A scalar's text: strings as they are, numbers (and booleans, if wanted) exactly as written,
 * so that `PGPORT: 05432` stays "05432" rather than becoming "5432".
 */
function scalarText(node: Node | null, withBooleans: boolean): string | undefined {
  if (!isScalar(node)) return undefined;
  const { value } = node;
  if (typeof value === "string") return value;
  if (typeof value === "number" || (withBooleans && typeof value === "boolean")) {
    return node.source ?? String(value);
  }
  return undefined;
}

/** What kind of value a node holds, for messages. Never the content: it may be a secret. */
export function describe(node: Node | null): string {
  if (node === null) return "empty";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    if (typeof node.value === "string") return "a string";
    if (typeof node.value === "number") return "a number";
    if (typeof node.value === "boolean") return `${node.value}`;
  }
  return "an unsupported value";
}

function label(path: string): string {
  return path === "" ? "the config file" : path;
}

/**
 * A string, or a number taken as written. Empty (or blank) strings are refused unless
 * `allowEmpty` is set. Messages never quote the value, so this also reads inline secrets.
 */
export function text(options: { allowEmpty?: boolean; withBooleans?: boolean } = {}): Read<string> {
  return (ctx, entry) => {
    const value = scalarText(entry.value, options.withBooleans ?? false);
    if (value === undefined) {
      report(ctx, valueNode(entry), `${entry.path} must be a string, not ${describe(entry.value)}`);
      return undefined;
    }
    if (value.trim() === "" && !options.allowEmpty) {
      report(ctx, valueNode(entry), `${entry.path} must not be empty`);
      return undefined;
    }
    return value;
  };
}

/** A whole number in [min, max]. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Read<number> {
  return (ctx, entry) => {
    const node = entry.value;
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) {
      return value;
    }
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    const unquote = typeof value === "string" && /^\s*-?\d+\s*$/.test(value)
      ? ` (write ${value.trim()} without quotes)`
      : "";
    report(
      ctx,
      valueNode(entry),
      `${entry.path} must be a whole number ${range}, not ${show(node)}${unquote}`,
    );
    return undefined;
  };
}

/** true or false, unquoted. */
export const boolean: Read<boolean> = (ctx, entry) => {
  const node = entry.value;
  const value = isScalar(node) ? node.value : undefined;
  if (typeof value === "boolean") return value;
  const unquote = typeof value === "string" && /^\s*(true|false)\s*$/.test(value)
    ? ` (write ${value.trim()} without quotes)`
    : "";
  report(ctx, valueNode(entry), `${entry.path} must be true or false, not ${show(node)}${unquote}`);
  return undefined;
};

/** One of a few fixed words. */
export function oneOf<T extends string>(choices: readonly T[]): Read<T> {
  return (ctx, entry) => {
    const value = scalarText(entry.value, true);
    const choice = choices.find((candidate) => candidate === value);
    if (choice === undefined) {
      const list = choices.map((candidate) => `"${candidate}"`).join(" or ");
      report(ctx, valueNode(entry), `${entry.path} must be ${list}, not ${show(entry.value)}`);
    }
    return choice;
  };
}

/** A list whose items `readItem` reads, each named `path[index]` in messages. */
export function listOf<T>(readItem: Read<T>): Read<T[]> {
  return (ctx, entry) => {
    const node = entry.value;
    if (!isSeq(node)) {
      report(ctx, valueNode(entry), `${entry.path} must be a list, not ${describe(node)}`);
      return undefined;
    }
    const items = node.items.map((item, index): Entry => {
      const value = resolve(ctx, item);
      return { path: `${entry.path}[${index}]`, key: value ?? node, value };
    });
    const values = items.map((item) => readItem(ctx, item));
    return values.every((value) => value !== undefined) ? values as T[] : undefined;
  };
}

/** A list of non-empty strings. */
export const stringList: Read<string[]> = listOf(text());

// setTimeout cannot wait longer than 2^31 - 1 ms: Deno fires a longer timeout at once, which
// would make a generous hook timeout kill the hook immediately.
const MAX_DURATION_MS = 2 ** 31 - 1;

/** A Go-style duration in milliseconds; 0 only with `allowZero`. */
export function duration(options: { allowZero?: boolean } = {}): Read<number> {
  return (ctx, entry) => {
    const source = scalarText(entry.value, false);
    if (source === undefined) {
      report(
        ctx,
        valueNode(entry),
        `${entry.path} must be a duration, not ${describe(entry.value)}`,
      );
      return undefined;
    }
    let ms: number;
    try {
      ms = parseDuration(source);
    } catch (error) {
      report(ctx, valueNode(entry), `${entry.path}: ${(error as Error).message}`);
      return undefined;
    }
    const problem = ms === 0 && !options.allowZero
      ? "must be longer than 0"
      : ms > MAX_DURATION_MS
      ? "must be at most 596h (about 24 days)"
      : undefined;
    if (problem === undefined) return ms;
    report(ctx, valueNode(entry), `${entry.path} ${problem}`);
    return undefined;
  };
}

/** A value as it appears in the file, for messages about values that are never secret. */
function show(node: Node | null): string {
  if (isScalar(node) && typeof node.value === "string") {
    return `the string ${JSON.stringify(node.value)}`;
  }
  if (isScalar(node) && typeof node.value === "number") return node.source ?? String(node.value);
  return describe(node);
}
