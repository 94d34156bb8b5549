/** A bad configuration gives a precise error, exit 3, and changes nothing. */
import assert from "node:assert/strict";
import { packrat, setup, snapshotTree, tempDir } from "../helpers.ts";

const CASES: { name: string; yaml: (dir: string) => string; error: RegExp }[] = [
  {
    name: "bad YAML",
    yaml: (d) => `encryption:\n  key_file: ${d}/key\nservices:\n  svc: [unclosed\n`,
    error: /config\.yaml:\d+:\d+: /,
  },
  {
    name: "unknown key with a suggestion",
    yaml: (d) => base(d, "    retain_backup: 3\n"),
    error: /config\.yaml:8:5: .*retain_backup.*did you mean "retain_backups"/,
  },
  {
    name: "bad cron",
    yaml: (d) => base(d, `    schedule: "0 2 * *"\n`),
    error: /config\.yaml:8:15: .*schedule/,
  },
  {
    name: "bad duration",
    yaml: (d) => base(d, `    pre_backup:\n      command: "true"\n      timeout: 30 minutes\n`),
    error: /config\.yaml:10:16: .*"30 minutes" is not a duration/,
  },
  {
    name: "both a secret and its _file",
    yaml: (d) =>
      base(d, "") +
      `  s3:\n    bucket: b\n    access_key_id: a\n    secret_access_key: s\n    secret_access_key_file: /run/s\n`,
    error: /config\.yaml:\d+:\d+: .*secret_access_key.*secret_access_key_file/,
  },
  {
    name: "missing destination",
    yaml: (d) =>
      `encryption:\n  key_file: ${d}/key\nservices:\n  svc:\n    path: ${d}/data\nbackup:\n  retain_backups: 3\n`,
    error: /config\.yaml:6:1: .*destination/,
  },
  {
    name: "bad service name",
    yaml: (d) => base(d, "").replace("  svc:", "  ../evil:"),
    error: /config\.yaml:4:3: .*service name/,
  },
];

function base(dir: string, serviceExtra: string): string {
  return `encryption:\n  key_file: ${dir}/key\nservices:\n  svc:\n    path: ${dir}/data\n    exclude: ["*.tmp"]\n    retain_backups: 2\n${serviceExtra}backup:\n  local:\n    path: ${dir}/dest\n  staging_dir: ${dir}/staging\n`;
}

for (const c of CASES) {
  Deno.test(`config error: ${c.name} → exit 3, precise message, nothing changed`, async () => {
    await using dir = await tempDir();
    const s = await setup(dir.path, {});
    await Deno.mkdir(`${dir.path}/data`);
    await Deno.writeTextFile(`${dir.path}/data/f`, "x");
    await Deno.writeTextFile(s.config, c.yaml(dir.path));
    const before = await snapshotTree(dir.path);
    for (const args of [["backup", "--all"], ["backup", "svc"], ["list"], ["prune"]]) {
      const result = await s.run(args);
      assert.equal(result.code, 3, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, c.error);
      assert.equal(result.stdout, "");
    }
    assert.deepEqual(await snapshotTree(dir.path), before);
  });
}

Deno.test("no config anywhere: the places searched are listed", async () => {
  await using dir = await tempDir();
  const result = await packrat(["list"], {
    env: { HOME: dir.path, XDG_CONFIG_HOME: `${dir.path}/xdg`, PACKRAT_CONFIG: "" },
  });
  assert.equal(result.code, 3);
  assert.match(result.stderr, /xdg\/packrat\/config\.yaml/);
  assert.match(result.stderr, /\/etc\/packrat\/config\.yaml/);
});

Deno.test("a service whose container does not exist fails clearly and stores nothing", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  const s = await setup(dir.path, {
    db: { path: `${dir.path}/data`, docker: { container: "packrat-no-such-container" } },
  });
  const result = await s.run(["backup", "db"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /no container named packrat-no-such-container/);
  assert.deepEqual([...Deno.readDirSync(s.dest)], []);
});
