/** The keys the daemon reads: catch_up, timezone, retry_after and metrics_file. */
import assert from "node:assert/strict";
import { load, problems, service } from "./support.ts";

/** A config with services `app` and `other` (flow mappings) under `backup` lines. */
function config(app: string, backup: string, other = "{ path: /b }"): string {
  return `encryption: { key_file: /k }
services:
  app: { path: /a${app} }
  other: ${other}
backup:
${backup}  local: { path: /mnt }
`;
}

Deno.test("defaults: catch up, the machine's zone, retries after 5m and 30m, no metrics", () => {
  const loaded = load(config("", ""));
  assert.equal(service(loaded, "app").catchUp, true);
  assert.equal(service(loaded, "app").timezone, undefined);
  assert.deepEqual(loaded.backup.retryAfterMs, [300_000, 1_800_000]);
  assert.equal(loaded.backup.metricsFile, undefined);
});

Deno.test("catch_up: the service's own value, else backup.catch_up, else true", () => {
  const ownOnly = load(config(", catch_up: false", ""));
  assert.equal(service(ownOnly, "app").catchUp, false);
  assert.equal(service(ownOnly, "other").catchUp, true);

  const globalOff = load(config(", catch_up: true", "  catch_up: false\n"));
  assert.equal(service(globalOff, "app").catchUp, true);
  assert.equal(service(globalOff, "other").catchUp, false);
});

Deno.test("timezone: the service's own zone wins over backup.timezone", () => {
  const loaded = load(config(", timezone: America/New_York", "  timezone: Europe/Berlin\n"));
  assert.equal(service(loaded, "app").timezone, "America/New_York");
  assert.equal(service(loaded, "other").timezone, "Europe/Berlin");
  // Zones come back in their canonical spelling.
  assert.equal(
    service(load(config("", "  timezone: europe/berlin\n")), "app").timezone,
    "Europe/Berlin",
  );
});

Deno.test("a bad backup.timezone is refused at its line and column", () => {
  assert.deepEqual(problems(config("", "  timezone: Mars/Olympus\n")), [
    'packrat.yaml:6:13: backup.timezone: "Mars/Olympus" is not a known time zone ' +
    "(use an IANA name such as Europe/Berlin)",
  ]);
});

Deno.test("retry_after: a list of durations; [] means no retries", () => {
  const loaded = load(config("", "  retry_after: [1m, 1h30m, 90s]\n"));
  assert.deepEqual(loaded.backup.retryAfterMs, [60_000, 5_400_000, 90_000]);
  assert.deepEqual(load(config("", "  retry_after: []\n")).backup.retryAfterMs, []);
});

Deno.test("a bad retry_after names the list item", () => {
  assert.deepEqual(problems(config("", "  retry_after:\n    - 5m\n    - 10 minutes\n")), [
    'packrat.yaml:8:7: backup.retry_after[1]: "10 minutes" is not a duration ' +
    "(use Go-style durations such as 90s, 30m, 2h, 1h30m)",
  ]);
  assert.deepEqual(problems(config("", "  retry_after: 5m\n")), [
    "packrat.yaml:6:16: backup.retry_after must be a list, not a string",
  ]);
});

Deno.test("metrics_file: a local path, ~ expanded", () => {
  const loaded = load(config("", "  metrics_file: ~/metrics/packrat.prom\n"));
  assert.equal(loaded.backup.metricsFile, "/home/ann/metrics/packrat.prom");
  const absolute = load(config("", "  metrics_file: /var/lib/node_exporter/packrat.prom\n"));
  assert.equal(absolute.backup.metricsFile, "/var/lib/node_exporter/packrat.prom");
  assert.deepEqual(problems(config("", "  metrics_file: packrat.prom\n")), [
    'packrat.yaml:6:17: backup.metrics_file: "packrat.prom" must be an absolute path or ' +
    "start with ~/",
  ]);
});

Deno.test('a quoted "true" for catch_up says to write it without quotes', () => {
  assert.deepEqual(problems(config(', catch_up: "true"', "")), [
    "packrat.yaml:3:30: services.app.catch_up must be true or false, " +
    'not the string "true" (write true without quotes)',
  ]);
  assert.deepEqual(problems(config("", "  catch_up: 'false'\n")), [
    "packrat.yaml:6:13: backup.catch_up must be true or false, " +
    'not the string "false" (write false without quotes)',
  ]);
  // YAML 1.2: "yes" is a string, not a boolean.
  assert.deepEqual(problems(config("", "  catch_up: yes\n")), [
    'packrat.yaml:6:13: backup.catch_up must be true or false, not the string "yes"',
  ]);
});

Deno.test("a misspelt catch_up or retry_after suggests the right key", () => {
  assert.deepEqual(problems(config(", catchup: false", "")), [
    'packrat.yaml:3:20: unknown key "catchup" in services.app — did you mean "catch_up"?',
  ]);
  assert.deepEqual(problems(config("", "  retryafter: [5m]\n")), [
    'packrat.yaml:6:3: unknown key "retryafter" in backup — did you mean "retry_after"?',
  ]);
});
