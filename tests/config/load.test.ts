import assert from "node:assert/strict";
import {
  type ConfigCandidate,
  configCandidates,
  findConfigFile,
  loadConfig,
  parseConfig,
} from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";

const VALID = `encryption: { key_file: /keys/packrat }
services: { app: { path: /srv/app } }
backup: { local: { path: /mnt/backups } }
`;

/** An environment lookup backed by a record, so tests never touch the real environment. */
function envOf(values: Record<string, string>) {
  return (name: string): string | undefined => values[name];
}

/** Runs `body` with a fresh temp dir that is removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "packrat-config-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeConfig(path: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, VALID);
}

Deno.test("search order: --config, then $PACKRAT_CONFIG, then XDG, then /etc", () => {
  const everything = envOf({ PACKRAT_CONFIG: "/env/config.yaml", XDG_CONFIG_HOME: "/xdg" });
  assert.deepEqual(configCandidates("/flag/config.yaml", everything, "/home/ann"), [
    { path: "/flag/config.yaml", source: "--config", explicit: true },
  ]);
  assert.deepEqual(configCandidates(undefined, everything, "/home/ann"), [
    { path: "/env/config.yaml", source: "$PACKRAT_CONFIG", explicit: true },
  ]);
  assert.deepEqual(configCandidates(undefined, envOf({ XDG_CONFIG_HOME: "/xdg/" }), "/home/ann"), [
    { path: "/xdg/packrat/config.yaml", source: "$XDG_CONFIG_HOME", explicit: false },
    { path: "/etc/packrat/config.yaml", source: "system-wide", explicit: false },
  ]);
  const defaults = [
    { path: "/home/ann/.config/packrat/config.yaml", source: "~/.config", explicit: false },
    { path: "/etc/packrat/config.yaml", source: "system-wide", explicit: false },
  ];
  assert.deepEqual(configCandidates(undefined, envOf({}), "/home/ann"), defaults);
  // Empty variables count as unset; a relative XDG_CONFIG_HOME is ignored, as the spec says.
  const blank = envOf({ PACKRAT_CONFIG: "", XDG_CONFIG_HOME: "relative/dir" });
  assert.deepEqual(configCandidates("", blank, "/home/ann"), defaults);
});

Deno.test("findConfigFile takes the first candidate that exists", async () => {
  await inTempDir(async (dir) => {
    const xdg = `${dir}/xdg`;
    await writeConfig(`${xdg}/packrat/config.yaml`);
    const candidates = configCandidates(undefined, envOf({ XDG_CONFIG_HOME: xdg }), dir);
    assert.equal(await findConfigFile(candidates), `${xdg}/packrat/config.yaml`);

    const fallback: ConfigCandidate[] = [
      { path: `${dir}/missing.yaml`, source: "~/.config", explicit: false },
      { path: `${xdg}/packrat/config.yaml`, source: "system-wide", explicit: false },
    ];
    assert.equal(await findConfigFile(fallback), `${xdg}/packrat/config.yaml`);
  });
});

Deno.test("an explicit path that does not exist is an error, not a fall-through", async () => {
  await inTempDir(async (dir) => {
    const xdg = `${dir}/xdg`;
    await writeConfig(`${xdg}/packrat/config.yaml`);
    const env = envOf({ PACKRAT_CONFIG: `${dir}/nope.yaml`, XDG_CONFIG_HOME: xdg });
    await assert.rejects(
      () => findConfigFile(configCandidates(undefined, env, dir)),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message === `config file ${dir}/nope.yaml (from $PACKRAT_CONFIG) does not exist`,
    );
    await assert.rejects(
      () => findConfigFile(configCandidates(`${dir}/flag.yaml`, env, dir)),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message === `config file ${dir}/flag.yaml (from --config) does not exist`,
    );
  });
});

Deno.test("no config anywhere lists the places searched and suggests --config", async () => {
  await inTempDir(async (dir) => {
    const candidates: ConfigCandidate[] = [
      { path: `${dir}/a.yaml`, source: "$XDG_CONFIG_HOME", explicit: false },
      { path: `${dir}/b.yaml`, source: "system-wide", explicit: false },
    ];
    const error = await findConfigFile(candidates).then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError);
    const [where, example] = error.message.split("A minimal one:\n");
    assert.equal(
      where,
      "no config file found; looked in:\n" +
        `  ${dir}/a.yaml ($XDG_CONFIG_HOME)\n` +
        `  ${dir}/b.yaml (system-wide)\n` +
        "create one there, or pass --config PATH (or set PACKRAT_CONFIG). ",
    );
    // The example it shows is a config that loads.
    const config = parseConfig(example.replace(/^ {2}/gm, ""), "example.yaml", {
      home: "/home/me",
      hostname: "nas1",
      tmpdir: "/tmp",
    });
    assert.deepEqual(config.services.map((x) => x.name), ["documents"]);
  });
});

Deno.test("a directory where the config file should be is an error", async () => {
  await inTempDir(async (dir) => {
    await assert.rejects(
      () => findConfigFile([{ path: dir, source: "--config", explicit: true }]),
      (error: Error) =>
        error instanceof ConfigError && error.message === `config file ${dir} is not a file`,
    );
  });
});

Deno.test("loadConfig reads the file given with --config", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/packrat.yaml`;
    await writeConfig(path);
    const config = await loadConfig({ path });
    assert.equal(config.file, path);
    assert.equal(config.encryption.keyFile, "/keys/packrat");
    assert.deepEqual(config.services.map((service) => service.name), ["app"]);
    assert.equal(config.backup.host, Deno.hostname());

    await Deno.writeTextFile(path, VALID.replace("path: /srv/app", "path: srv/app"));
    await assert.rejects(
      () => loadConfig({ path }),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message.startsWith(`${path}:2:26: services.app.path: "srv/app" must be`),
    );
  });
});

Deno.test("parseConfig without an environment uses this machine's", () => {
  const config = parseConfig(VALID, "packrat.yaml");
  assert.equal(config.backup.host, Deno.hostname());
  assert.equal(config.backup.stagingDir.startsWith("/"), true);
});
