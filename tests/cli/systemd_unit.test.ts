/**
 * `packrat systemd-unit`: the hardening shared with the NixOS module, the paths the config makes
 * writable, Docker access, capabilities by user, ProtectHome only when nothing lives in a home
 * directory — and the unit passes `systemd-analyze verify`.
 *
 * @module
 */
import assert from "node:assert/strict";
import hardening from "../../src/systemd/hardening.json" with { type: "json" };
import { packrat, setup, show, tempDir } from "../helpers.ts";

/** `key=value` lines of the unit, by key (a key may repeat). */
function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) map.set(match[1], [...(map.get(match[1]) ?? []), match[2]]);
  }
  return map;
}

async function verify(unit: string, dir: string): Promise<{ code: number; output: string }> {
  const path = `${dir}/packrat.service`;
  await Deno.writeTextFile(path, unit);
  const out = await new Deno.Command("systemd-analyze", { args: ["verify", path] }).output();
  const text = new TextDecoder();
  return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
}

Deno.test("systemd-unit: hardened, with the config's writable paths and Docker; systemd-analyze verify passes", async () => {
  await using dir = await tempDir("packrat-unit-");
  const s = await setup(
    dir.path,
    {
      gitea: {
        path: "/srv/gitea",
        schedule: "0 2 * * *",
        docker: { container: "gitea" },
        pre_backup: { command: "true", working_dir: "/srv/dumps" },
      },
    },
    { staging_dir: "/var/tmp/packrat", metrics_file: "/var/lib/node_exporter/packrat.prom" },
  );
  const result = await s.run(["systemd-unit"]);
  assert.equal(result.code, 0, show(result));
  const unit = directives(result.stdout);
  assert.match(unit.get("ExecStart")![0], new RegExp(`^/\\S+ --config ${s.config} daemon$`));
  assert.deepEqual(unit.get("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
  assert.deepEqual(unit.get("User"), ["root"]);
  for (const [key, value] of Object.entries(hardening.service)) {
    const expected = Array.isArray(value)
      ? value.join(" ")
      : typeof value === "boolean"
      ? (value ? "yes" : "no")
      : value;
    assert.deepEqual(unit.get(key), [expected], key);
  }
  assert.deepEqual(unit.get("ReadWritePaths"), [
    `-/srv/gitea -/srv/dumps -${s.dest} -/var/tmp/packrat -/var/lib/node_exporter -${s.dir}/state`,
  ]);
  assert.deepEqual(unit.get("CapabilityBoundingSet"), [hardening.rootCapabilities.join(" ")]);
  assert.deepEqual(unit.get("ProtectHome"), ["yes"]);
  assert.match(unit.get("After")![0], /docker\.service/);
  assert.match(unit.get("Wants")![0], /docker\.service/);
  assert.equal(unit.get("SupplementaryGroups"), undefined, "root needs no docker group");
  assert.deepEqual(unit.get("WantedBy"), ["multi-user.target"]);

  const verified = await verify(result.stdout, dir.path);
  assert.equal(verified.code, 0, verified.output);
  assert.doesNotMatch(verified.output, /packrat\.service/, verified.output);
});

Deno.test("systemd-unit: another user gets the docker group and no capabilities; a home path lifts ProtectHome", async () => {
  await using dir = await tempDir("packrat-unit-");
  const s = await setup(dir.path, {
    notes: { path: "/home/ann/notes" },
    gitea: { path: "/srv/gitea", docker: { containers: ["gitea", "gitea-db"] } },
  });
  const result = await s.run(["systemd-unit", "--user", "packrat", "--group", "packrat"]);
  assert.equal(result.code, 0, show(result));
  const unit = directives(result.stdout);
  assert.deepEqual(unit.get("User"), ["packrat"]);
  assert.deepEqual(unit.get("Group"), ["packrat"]);
  assert.deepEqual(unit.get("SupplementaryGroups"), ["docker"]);
  assert.deepEqual(unit.get("CapabilityBoundingSet"), [""]);
  assert.deepEqual(unit.get("AmbientCapabilities"), [""]);
  assert.deepEqual(unit.get("ProtectHome"), ["no"], "a service lives under /home");
  const verified = await verify(result.stdout, dir.path);
  assert.equal(verified.code, 0, verified.output);
});

Deno.test("systemd-unit: a relative --exec is refused; a missing executable fails systemd-analyze verify", async () => {
  await using dir = await tempDir("packrat-unit-");
  const s = await setup(dir.path, { app: { path: "/srv/app" } });
  const relative = await s.run(["systemd-unit", "--exec", "bin/packrat"]);
  assert.equal(relative.code, 2, show(relative));
  assert.match(relative.stderr, /--exec needs an absolute path, not bin\/packrat/);
  const missing = await s.run(["systemd-unit", "--exec", `${dir.path}/no-such-packrat`]);
  assert.equal(missing.code, 0, show(missing));
  const verified = await verify(missing.stdout, dir.path);
  assert.notEqual(verified.code, 0, "verify checks the executable");
  assert.match(verified.output, /no-such-packrat is not executable/);
});

Deno.test("systemd-unit: % and $ are escaped, spaces quoted, a relative --config made absolute, secret files count for ProtectHome", async () => {
  await using dir = await tempDir("packrat-unit-");
  const s = await setup(
    dir.path,
    { odd: { path: "/srv/100%h data" } },
    {
      s3: {
        bucket: "b",
        access_key_id_file: "/home/ann/.secrets/id",
        secret_access_key_file: "/etc/packrat/secret",
      },
    },
  );
  const relative = s.config.slice(dir.path.length + 1);
  const result = await packrat(["--config", relative, "systemd-unit"], { cwd: dir.path });
  assert.equal(result.code, 0, show(result));
  const unit = directives(result.stdout);
  assert.match(unit.get("ExecStart")![0], new RegExp(` --config ${s.config} daemon$`));
  assert.match(unit.get("ReadWritePaths")![0], /^-"\/srv\/100%%h data" /);
  assert.deepEqual(unit.get("ProtectHome"), ["no"], "the S3 key id file lives under /home");
  const verified = await verify(result.stdout, dir.path);
  assert.equal(verified.code, 0, verified.output);
  assert.doesNotMatch(verified.output, /packrat\.service/, verified.output);
});
