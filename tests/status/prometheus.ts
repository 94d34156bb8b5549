/**
 * A strict parser of the Prometheus text exposition format, version 0.0.4, written from the
 * format's documentation, so tests check our metrics against the format rather than against
 * the code that wrote them. Anything malformed throws an Error naming the line.
 *
 * Values are stricter than Go's ParseFloat: decimal numbers, NaN, +Inf and -Inf only.
 * Histogram and summary samples (`_bucket`, `_sum`, `_count`) are not folded into their
 * family: Packrat writes gauges only.
 *
 * @module
 */

export interface PrometheusSample {
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusFamily {
  type?: string;
  help?: string;
  samples: PrometheusSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TIMESTAMP = /^-?\d+$/;
const BLANK = /[ \t]/;

/** Parses a whole exposition; families are keyed by metric name, in order of appearance. */
export function parsePrometheusText(text: string): Map<string, PrometheusFamily> {
  if (text !== "" && !text.endsWith("\n")) {
    throw new Error(`line ${text.split("\n").length}: the last line must end with a line feed`);
  }
  const families = new Map<string, PrometheusFamily>();
  const series = new Set<string>();
  let current: string | undefined;

  /** The family `name`, checking that no other family came between its lines. */
  const enter = (name: string, fail: (message: string) => never): PrometheusFamily => {
    if (name !== current && families.has(name)) {
      fail(`family ${name} is interleaved with another family`);
    }
    current = name;
    let family = families.get(name);
    if (!family) families.set(name, family = { samples: [] });
    return family;
  };

  text.slice(0, -1).split("\n").forEach((raw, index) => {
    const fail = (message: string): never => {
      throw new Error(`line ${index + 1}: ${message}: ${JSON.stringify(raw)}`);
    };
    const line = raw.replace(/^[ \t]+|[ \t]+$/g, "");
    if (line === "") return;
    if (line.startsWith("#")) {
      const tokens = line.slice(1).trimStart().split(/[ \t]+/);
      if (tokens[0] !== "HELP" && tokens[0] !== "TYPE") return; // An ordinary comment.
      const name = tokens[1] ?? fail(`${tokens[0]} without a metric name`);
      if (!METRIC_NAME.test(name)) fail(`invalid metric name ${JSON.stringify(name)}`);
      const family = enter(name, fail);
      if (tokens[0] === "HELP") {
        if (family.help !== undefined) fail(`second HELP for ${name}`);
        const rest = line.replace(/^#[ \t]*HELP[ \t]+[^ \t]+[ \t]*/, "");
        family.help = unescape(rest, false, fail);
      } else {
        if (family.type !== undefined) fail(`second TYPE for ${name}`);
        if (family.samples.length > 0) fail(`TYPE for ${name} after its samples`);
        if (tokens.length !== 3 || !TYPES.has(tokens[2])) fail("TYPE needs one known type");
        family.type = tokens[2];
      }
      return;
    }
    const { name, labels, rest } = parseSeries(line, fail);
    const fields = rest.split(/[ \t]+/);
    if (rest === "" || fields.length > 2) fail("a sample needs a value and an optional timestamp");
    if (fields.length === 2 && !TIMESTAMP.test(fields[1])) fail("invalid timestamp");
    const family = enter(name, fail);
    const key = JSON.stringify([name, Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1)]);
    if (series.has(key)) fail("duplicate series");
    series.add(key);
    family.samples.push({ labels, value: parseValue(fields[0], fail) });
  });
  return families;
}

function parseSeries(line: string, fail: (message: string) => never) {
  const nameEnd = line.search(/[{ \t]/);
  if (nameEnd < 0) fail("a sample needs a value");
  const name = line.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) fail(`invalid metric name ${JSON.stringify(name)}`);
  const labels: Record<string, string> = {};
  let at = nameEnd;
  while (BLANK.test(line[at] ?? "")) at++;
  if (line[at] === "{") {
    at++;
    for (;;) {
      while (BLANK.test(line[at] ?? "")) at++;
      if (line[at] === "}") break;
      const labelEnd = line.slice(at).search(/[ \t=]/);
      if (labelEnd < 0) fail("unterminated label set");
      const label = line.slice(at, at + labelEnd);
      if (!LABEL_NAME.test(label)) fail(`invalid label name ${JSON.stringify(label)}`);
      if (Object.hasOwn(labels, label)) fail(`duplicate label ${label}`);
      at += labelEnd;
      while (BLANK.test(line[at] ?? "")) at++;
      if (line[at++] !== "=") fail(`expected "=" after label ${label}`);
      while (BLANK.test(line[at] ?? "")) at++;
      if (line[at++] !== '"') fail(`expected a quoted value for label ${label}`);
      let end = at;
      while (end < line.length && line[end] !== '"') end += line[end] === "\\" ? 2 : 1;
      if (end >= line.length) fail(`unterminated value for label ${label}`);
      labels[label] = unescape(line.slice(at, end), true, fail);
      at = end + 1;
      while (BLANK.test(line[at] ?? "")) at++;
      if (line[at] === ",") at++;
      else if (line[at] !== "}") fail(`expected "," or "}" after label ${label}`);
    }
    at++;
  }
  return { name, labels, rest: line.slice(at).replace(/^[ \t]+/, "") };
}

/** Undoes `\\` and `\n` (HELP text), and also `\"` in label values; other escapes are errors. */
function unescape(text: string, quoted: boolean, fail: (message: string) => never): string {
  return text.replace(/\\(.?)/g, (_, next: string) => {
    if (next === "\\") return "\\";
    if (next === "n") return "\n";
    if (next === '"' && quoted) return '"';
    return fail(`invalid escape sequence \\${next}`);
  });
}

function parseValue(text: string, fail: (message: string) => never): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!FLOAT.test(text)) fail(`invalid value ${JSON.stringify(text)}`);
  return Number(text);
}
