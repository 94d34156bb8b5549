/** The node_exporter textfile: valid exposition format, the right values, written atomically. */
import assert from "node:assert/strict";
import { renderMetrics, type ServiceMetrics, writeMetricsFile } from "../../src/status/metrics.ts";
import { ROOT } from "../helpers.ts";
import { parsePrometheusText } from "./prometheus.ts";

const SERVICES: ServiceMetrics[] = [
  {
    service: "nextcloud",
    lastSuccess: new Date("2026-11-30T22:51:42.250Z"),
    lastStatus: "partial",
    lastDurationMs: 93_500,
    sizes: { local: 7_340_032, s3: 7_340_032, synology: 7_340_100 },
    nextRun: new Date("2026-12-01T03:00:00Z"),
  },
  // Never succeeded, no schedule: only the samples that are known.
  { service: "gitea", lastStatus: "failed", lastDurationMs: 1200, sizes: {} },
];

Deno.test("the rendered metrics parse back to the values they were made from", () => {
  const text = renderMetrics(SERVICES);
  assert.ok(text.endsWith("\n"));
  const families = parsePrometheusText(text);
  assert.deepEqual([...families.keys()], [
    "packrat_last_success_timestamp_seconds",
    "packrat_last_run_status",
    "packrat_backup_size_bytes",
    "packrat_backup_duration_seconds",
    "packrat_next_run_timestamp_seconds",
  ]);
  for (const family of families.values()) {
    assert.equal(family.type, "gauge");
    assert.ok(family.help);
  }
  assert.match(
    families.get("packrat_last_run_status")!.help!,
    /0 succeeded, 1 failed, 2 partial.*3 interrupted/,
  );
  const samples = (name: string) => families.get(name)!.samples;
  assert.deepEqual(samples("packrat_last_success_timestamp_seconds"), [
    { labels: { service: "nextcloud" }, value: 1796079102.25 },
  ]);
  assert.deepEqual(samples("packrat_last_run_status"), [
    { labels: { service: "nextcloud" }, value: 2 },
    { labels: { service: "gitea" }, value: 1 },
  ]);
  assert.deepEqual(samples("packrat_backup_size_bytes"), [
    { labels: { service: "nextcloud", destination: "local" }, value: 7_340_032 },
    { labels: { service: "nextcloud", destination: "s3" }, value: 7_340_032 },
    { labels: { service: "nextcloud", destination: "synology" }, value: 7_340_100 },
  ]);
  assert.deepEqual(samples("packrat_backup_duration_seconds"), [
    { labels: { service: "nextcloud" }, value: 93.5 },
    { labels: { service: "gitea" }, value: 1.2 },
  ]);
  assert.deepEqual(samples("packrat_next_run_timestamp_seconds"), [
    { labels: { service: "nextcloud" }, value: 1796094000 },
  ]);
});

Deno.test("every status has its documented number; families without samples are left out", () => {
  const statuses = ["succeeded", "failed", "partial", "interrupted"] as const;
  const families = parsePrometheusText(
    renderMetrics(statuses.map((lastStatus) => ({ service: lastStatus, lastStatus, sizes: {} }))),
  );
  assert.deepEqual([...families.keys()], ["packrat_last_run_status"]);
  assert.deepEqual(
    families.get("packrat_last_run_status")!.samples.map((s) => [s.labels.service, s.value]),
    [["succeeded", 0], ["failed", 1], ["partial", 2], ["interrupted", 3]],
  );
  assert.equal(renderMetrics([]), "");
});

Deno.test("odd service and destination names are escaped and read back unchanged", () => {
  const service = 'we"ird\\name\nwith a newline';
  const destination = 'C:\\backups "old"';
  const text = renderMetrics([{ service, lastStatus: "succeeded", sizes: { [destination]: 5 } }]);
  assert.ok(text.includes('service="we\\"ird\\\\name\\nwith a newline"'), text);
  assert.deepEqual(parsePrometheusText(text).get("packrat_backup_size_bytes")!.samples, [
    { labels: { service, destination }, value: 5 },
  ]);
  assert.deepEqual(parsePrometheusText(text).get("packrat_last_run_status")!.samples, [
    { labels: { service }, value: 0 },
  ]);
});

Deno.test("the test parser accepts the format's corners", () => {
  const families = parsePrometheusText(
    [
      "# a plain comment",
      "# HELP odd Help with \\\\ and \\n escapes.",
      "# TYPE odd untyped",
      'odd{a="1",} NaN',
      'odd{a="2"} +Inf 1700000000000',
      'odd { a = "3" , b="" } -Inf',
      "odd 1.5e3",
      "",
    ].join("\n"),
  );
  const odd = families.get("odd")!;
  assert.equal(odd.help, "Help with \\ and \n escapes.");
  assert.deepEqual(odd.samples.map((s) => s.value), [NaN, Infinity, -Infinity, 1500]);
  assert.deepEqual(odd.samples[2].labels, { a: "3", b: "" });
});

Deno.test("the test parser rejects malformed input, naming the line", () => {
  const cases: [string, RegExp][] = [
    ["a 1", /line 1: the last line must end with a line feed/],
    ["1metric 1\n", /line 1: invalid metric name/],
    ['a{1b="x"} 1\n', /line 1: invalid label name/],
    ['a{b="x\\t"} 1\n', /line 1: invalid escape sequence/],
    ['a{b="x} 1\n', /line 1: unterminated value/],
    ['a{b="x",b="y"} 1\n', /line 1: duplicate label/],
    ["a one\n", /line 1: invalid value/],
    ["a 1 2 3\n", /line 1: a sample needs a value and an optional timestamp/],
    ["a 1 1.5\n", /line 1: invalid timestamp/],
    ["a\n", /line 1: a sample needs a value/],
    ["# TYPE a gauge\n# TYPE a gauge\n", /line 2: second TYPE/],
    ["# TYPE a gauge\na 1\n# TYPE b grams\n", /line 3: TYPE needs one known type/],
    ["a 1\n# TYPE a gauge\n", /line 2: TYPE for a after its samples/],
    ['a{x="1"} 1\nb 2\na{x="2"} 3\n', /line 3: family a is interleaved/],
    ['a{x="1",y="2"} 1\na{y="2",x="1"} 2\n', /line 2: duplicate series/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parsePrometheusText(text), message, JSON.stringify(text));
  }
});

Deno.test("writeMetricsFile replaces the file atomically with mode 0644 and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/packrat.prom`;
    await Deno.writeTextFile(path, "# stale content from an older run\nstale_metric 1\n");
    await writeMetricsFile(path, SERVICES);
    const text = await Deno.readTextFile(path);
    assert.equal(text, renderMetrics(SERVICES));
    assert.ok(!parsePrometheusText(text).has("stale_metric"));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), ["packrat.prom"]);

    await writeMetricsFile(path, [{ service: "solo", sizes: { local: 1 } }]);
    assert.deepEqual(
      [...parsePrometheusText(await Deno.readTextFile(path)).keys()],
      ["packrat_backup_size_bytes"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the metrics file is mode 0644 even under umask 077: node_exporter is another user", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/write.ts`;
    await Deno.writeTextFile(
      script,
      `import { writeMetricsFile } from ${JSON.stringify(`${ROOT}/src/status/metrics.ts`)};
await writeMetricsFile(Deno.args[0], [{ service: "app", sizes: { local: 1 } }]);`,
    );
    const path = `${dir}/app.prom`;
    const { code, stderr } = await new Deno.Command("sh", {
      args: [
        "-c",
        'umask 077 && exec "$0" run --quiet -P=packrat --config "$1" "$2" "$3"',
        Deno.execPath(),
        `${ROOT}/deno.json`,
        script,
        path,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed write removes its temp file and leaves the old metrics in place", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Renaming a file over a directory fails after the temp file is written.
    const path = `${dir}/packrat.prom`;
    await Deno.mkdir(path);
    await assert.rejects(writeMetricsFile(path, SERVICES));
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), ["packrat.prom"]);
    assert.ok((await Deno.stat(path)).isDirectory);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
