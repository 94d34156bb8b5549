/** The `verify` keys: the global default under `backup:`, each service's own over it. */
import assert from "node:assert/strict";
import { parseRate } from "../../src/config/verify.ts";
import { load, problems, service } from "./support.ts";

function config(app: string, backup: string): string {
  return `encryption: { key_file: /k }
services:
  app: { path: /a${app} }
  other: { path: /b }
backup:
${backup}  local: { path: /mnt }
`;
}

Deno.test("verify: without any, nothing is scheduled; newest backup, every destination", () => {
  const loaded = load(config("", ""));
  assert.deepEqual(service(loaded, "app").verify, {
    copies: "newest",
    destinations: "all",
    repair: false,
  });
});

Deno.test("verify: backup.verify is every service's default; a service's keys replace single keys", () => {
  const loaded = load(config(
    ", verify: { copies: all, repair: true }",
    `  verify: { schedule: "0 4 * * 0", destinations: first, max_rate: 20MB/s }\n`,
  ));
  assert.deepEqual(service(loaded, "other").verify, {
    schedule: "0 4 * * 0",
    copies: "newest",
    destinations: "first",
    repair: false,
    maxBytesPerSecond: 20_000_000,
  });
  assert.deepEqual(service(loaded, "app").verify, {
    schedule: "0 4 * * 0",
    copies: "all",
    destinations: "first",
    repair: true,
    maxBytesPerSecond: 20_000_000,
  });
});

Deno.test("verify: a service turns the default schedule off with schedule: null", () => {
  const loaded = load(
    config(", verify: { schedule: null }", `  verify: { schedule: "@weekly" }\n`),
  );
  assert.equal(service(loaded, "app").verify.schedule, undefined);
  assert.equal(service(loaded, "other").verify.schedule, "0 0 * * 0");
});

Deno.test("verify: bad values are named with their place in the file", () => {
  const found = problems(config(
    ', verify: { schedule: "61 * * * *", copies: some, destinations: 2, repair: "yes", max_rate: fast, every: 1 }',
    "",
  ));
  const text = found.join("\n");
  assert.match(text, /services\.app\.verify\.schedule/);
  assert.match(
    text,
    /services\.app\.verify\.copies must be "newest" or "all", not the string "some"/,
  );
  assert.match(text, /services\.app\.verify\.destinations must be "all" or "first"/);
  assert.match(text, /services\.app\.verify\.repair must be true or false/);
  assert.match(text, /services\.app\.verify\.max_rate: "fast" is not a rate/);
  assert.match(text, /every/);
  assert.ok(found.every((line) => !/^\s*$/.test(line)));
});

Deno.test("parseRate: decimal and binary units per second; too slow or no unit is refused", () => {
  assert.equal(parseRate("20MB/s"), 20_000_000);
  assert.equal(parseRate("512KiB/s"), 524_288);
  assert.equal(parseRate("1.5 GB/s"), 1_500_000_000);
  assert.equal(parseRate("4096/s"), 4096);
  assert.throws(() => parseRate("20MB"), /is not a rate/);
  assert.throws(() => parseRate("100B/s"), /too slow/);
});
