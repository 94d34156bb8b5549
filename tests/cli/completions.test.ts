/**
 * `packrat completions`: the scripts load in real bash, zsh and fish and complete what the user
 * would get on TAB — commands as commander has them, services from the config, backup ids from
 * the destinations — by calling `packrat` found on PATH; the hidden `packrat __complete` stays
 * silent and quick when the config is broken or a destination does not answer.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertOk,
  packrat,
  permissionsAfter,
  ROOT,
  type Setup,
  setup,
  show,
  tempDir,
} from "../helpers.ts";

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A directory holding a `packrat` that runs this checkout, for the scripts to find on PATH. */
async function packratOnPath(dir: string): Promise<Record<string, string>> {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(
    `${bin}/packrat`,
    `#!/bin/sh\nexec '${ROOT}/scripts/packrat' "$@"\n`,
    { mode: 0o755 },
  );
  return { PATH: `${bin}:${Deno.env.get("PATH")}`, NO_COLOR: "1" };
}

/** Runs a program; it is killed (and the test fails) should it hang. */
async function run(
  program: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<RunResult> {
  const out = await new Deno.Command(program, {
    args,
    env,
    stdin: "null",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Fails, saying what to install, when `shell` is missing: a skipped check is no check. */
async function requireShell(shell: string): Promise<void> {
  const found = await new Deno.Command("sh", { args: ["-c", `command -v ${shell}`] }).output();
  assert.equal(
    found.code,
    0,
    `${shell} is not installed, so its completion cannot be checked: apt-get install ${shell}`,
  );
}

// Loads the script as a user's shell would, then calls the function `complete -p` names with
// COMP_WORDS/COMP_CWORD set for the cursor at the end of the last word.
const BASH_COMPLETE = `
source <(packrat completions bash) || exit 90
spec=$(complete -p packrat) || exit 91
function=\${spec#*-F }
function=\${function%% *}
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=\${#COMP_LINE}
COMPREPLY=()
"$function" packrat "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]}" || exit 92
printf '%s\\n' "\${COMPREPLY[@]}"
`;

/** What bash offers for `words` (the last one is being completed). */
async function bashComplete(env: Record<string, string>, words: string[]): Promise<string[]> {
  const result = await run("bash", ["-c", BASH_COMPLETE, "bash", ...words], env);
  assert.equal(result.code, 0, `bash completion of ${words.join(" ")}: ${show(result)}`);
  return result.stdout.split("\n").filter((line) => line !== "");
}

// Types a line and TAB into an interactive zsh on a pseudo-terminal (zpty) with the script
// loaded, and prints every match compadd is given (after zsh-capture-completion by Valodim).
const ZSH_CAPTURE = String.raw`
zmodload zsh/zpty
zpty z zsh -f -i
local line
setopt rcquotes
() {
  zpty -w z source $1
  repeat 4; do
    zpty -r z line
    [[ $line == ok* ]] && return
  done
  echo 'the capturing zsh did not start' >&2
  exit 2
} =( <<< '
PROMPT=
autoload -U compinit
compinit -u -D
source <(packrat completions zsh)
bindkey ''^M'' undefined
bindkey ''^J'' undefined
bindkey ''^I'' complete-word
null-line () { echo -E - $''\0'' }
compprefuncs=( null-line )
comppostfuncs=( null-line exit )
compadd () {
  if [[ ${"$"}{@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return $?
  fi
  typeset -a hits
  builtin compadd -A hits "$@"
  local hit
  for hit in $hits; do echo -E - "$hit"; done
}
echo ok')
zpty -w z "$1"$'\t'
integer between=0
while zpty -r z; do :; done | while IFS= read -r line; do
  if [[ $line == *$'\0\r' ]]; then
    (( between++ )) && exit 0 || continue
  fi
  (( between )) && echo -E - ${"$"}{line%$'\r'}
done
exit 3
`;

/** What zsh offers on TAB at the end of `line`. */
async function zshComplete(env: Record<string, string>, line: string): Promise<string[]> {
  const result = await run("zsh", ["-f", "-c", ZSH_CAPTURE, "zsh", line], env);
  assert.equal(result.code, 0, `zsh completion of "${line}": ${show(result)}`);
  return result.stdout.split("\n").filter((l) => l !== "");
}

/** What fish offers on TAB at the end of `line` (`complete -C`), without descriptions. */
async function fishComplete(env: Record<string, string>, line: string): Promise<string[]> {
  const result = await run(
    "fish",
    ["--no-config", "-c", "packrat completions fish | source; and complete -C $argv[1]", line],
    env,
  );
  assert.equal(result.code, 0, `fish completion of "${line}": ${show(result)}`);
  return result.stdout.split("\n").filter((l) => l !== "").map((l) => l.split("\t")[0]);
}

/** Two services, `app` with two backups and `db` with none; returns them and app's ids. */
async function twoBackups(dir: string): Promise<{ s: Setup; ids: string[] }> {
  for (const name of ["app", "db"]) {
    await Deno.mkdir(`${dir}/${name}`);
    await Deno.writeTextFile(`${dir}/${name}/file.txt`, `${name}\n`);
  }
  const s = await setup(dir, { app: { path: `${dir}/app` }, db: { path: `${dir}/db` } });
  assertOk(await s.run(["backup", "app"]));
  assertOk(await s.run(["backup", "app"]));
  const listed = JSON.parse(assertOk(await s.run(["list", "app", "--json"])).stdout);
  const ids = listed.map((row: { id: string }) => row.id);
  assert.equal(ids.length, 2);
  return { s, ids };
}

const sorted = (values: string[]) => [...values].sort();

Deno.test("completions bash: sourcing the script registers a completion for packrat", async () => {
  await using dir = await tempDir("packrat-completions-");
  const env = await packratOnPath(dir.path);
  const result = await run(
    "bash",
    ["-c", "source <(packrat completions bash) && complete -p packrat"],
    env,
  );
  assert.equal(result.code, 0, show(result));
  assert.match(result.stdout, /^complete -F \S+ packrat$/m);
  assert.equal(result.stderr, "");
});

Deno.test("completions bash: the commands are the ones commander has, without the hidden callback", async () => {
  await using dir = await tempDir("packrat-completions-");
  const env = await packratOnPath(dir.path);
  const help = assertOk(await packrat(["--help"])).stdout;
  const listed = help.slice(help.indexOf("Commands:")).split("\n").slice(1)
    .map((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1])
    .filter((name) => name !== undefined);
  assert.ok(listed.includes("completions") && listed.includes("restore"), help);
  assert.deepEqual(sorted(await bashComplete(env, ["packrat", ""])), sorted(listed));
  assert.deepEqual(sorted(await bashComplete(env, ["packrat", "re"])), [
    "rekey",
    "repair",
    "restore",
  ]);
  assert.deepEqual(await bashComplete(env, ["packrat", "completions", ""]), [
    "bash",
    "zsh",
    "fish",
  ]);
});

Deno.test("completions bash: restore and backup offer the configured services, backup also --all", async () => {
  await using dir = await tempDir("packrat-completions-");
  const env = await packratOnPath(dir.path);
  const s = await setup(dir.path, {
    gitea: { path: `${dir.path}/gitea` },
    nextcloud: { path: `${dir.path}/nextcloud` },
  });
  const withConfig = { ...env, PACKRAT_CONFIG: s.config };
  const restore = await bashComplete(withConfig, ["packrat", "restore", ""]);
  assert.deepEqual(sorted(restore.filter((w) => !w.startsWith("-"))), ["gitea", "nextcloud"]);
  assert.ok(restore.includes("--backup") && !restore.includes("--help"), restore.join(" "));
  assert.deepEqual(await bashComplete(withConfig, ["packrat", "restore", "ne"]), ["nextcloud"]);
  assert.deepEqual(sorted(await bashComplete(withConfig, ["packrat", "backup", ""])), [
    "--all",
    "gitea",
    "nextcloud",
  ]);
  // backup takes any number of services.
  assert.deepEqual(await bashComplete(withConfig, ["packrat", "backup", "gitea", "n"]), [
    "nextcloud",
  ]);

  // --config on the line wins over PACKRAT_CONFIG, before or after the command.
  await using other = await tempDir("packrat-completions-");
  const t = await setup(other.path, { photos: { path: `${other.path}/photos` } });
  for (
    const words of [
      ["packrat", "--config", t.config, "restore", "p"],
      ["packrat", "-c", t.config, "restore", "p"],
      ["packrat", "restore", "--config", t.config, "p"],
    ]
  ) {
    assert.deepEqual(await bashComplete(withConfig, words), ["photos"], words.join(" "));
  }

  // A config path with a space, typed quoted or escaped, as bash keeps it in COMP_WORDS.
  const spaced = `${other.path}/my config.yaml`;
  await Deno.copyFile(t.config, spaced);
  for (const typed of [`"${spaced}"`, `'${spaced}'`, spaced.replace(" ", "\\ ")]) {
    assert.deepEqual(
      await bashComplete(env, ["packrat", "--config", typed, "restore", "p"]),
      ["photos"],
      typed,
    );
  }
});

Deno.test("completions bash: --backup offers the ids of existing backups and latest, --from the destinations", async () => {
  await using dir = await tempDir("packrat-completions-");
  const env = await packratOnPath(dir.path);
  const { s, ids } = await twoBackups(dir.path);
  const withConfig = { ...env, PACKRAT_CONFIG: s.config };
  assert.deepEqual(
    await bashComplete(withConfig, ["packrat", "restore", "app", "--backup", ""]),
    [...ids, "latest"],
  );
  // bash splits --backup=ID at "=".
  assert.deepEqual(
    await bashComplete(withConfig, ["packrat", "verify", "app", "--backup", "=", ids[1]]),
    [ids[1]],
  );
  assert.deepEqual(
    await bashComplete(withConfig, ["packrat", "restore", "db", "--backup", ""]),
    [],
  );
  // Without a service, verify checks the newest backup of each.
  assert.deepEqual(await bashComplete(withConfig, ["packrat", "verify", "--backup", ""]), [
    "latest",
  ]);
  assert.deepEqual(await bashComplete(withConfig, ["packrat", "restore", "app", "--from", ""]), [
    "local",
  ]);
  assert.deepEqual(
    sorted(await bashComplete(env, ["packrat", "--config", `${dir.path}/conf`, "list", ""])),
    ["--all-hosts", "--json"],
  );
  assert.deepEqual(await bashComplete(env, ["packrat", "--config", `${dir.path}/conf`]), [
    `${dir.path}/config.yaml`,
  ]);
});

Deno.test("completions zsh: the script parses and completes services and backup ids", async () => {
  await requireShell("zsh");
  await using dir = await tempDir("packrat-completions-");
  const env = await packratOnPath(dir.path);
  const script = assertOk(await packrat(["completions", "zsh"])).stdout;
  await Deno.writeTextFile(`${dir.path}/_packrat`, script);
  const parsed = await run("zsh", ["-n", `${dir.path}/_packrat`], env);
  assert.equal(parsed.code, 0, show(parsed));

  const { s, ids } = await twoBackups(dir.path);
  const withConfig = { ...env, PACKRAT_CONFIG: s.config };
  assert.deepEqual(sorted(await zshComplete(withConfig, "packrat restore ")), ["app", "db"]);
  assert.deepEqual(await zshComplete(withConfig, "packrat restore app --backup "), [
    ...ids,
    "latest",
  ]);
  assert.deepEqual(await zshComplete(env, `packrat -c ${s.config} restore app --from `), [
    "local",
  ]);
});

Deno.test("completions fish: the script parses and completes services and backup ids", async () => {
  await requireShell("fish");
  await using dir = await tempDir("packrat-completions-");
  const env = await packratOnPath(dir.path);
  const script = assertOk(await packrat(["completions", "fish"])).stdout;
  await Deno.writeTextFile(`${dir.path}/packrat.fish`, script);
  const parsed = await run("fish", ["--no-config", "-n", `${dir.path}/packrat.fish`], env);
  assert.equal(parsed.code, 0, show(parsed));

  const { s, ids } = await twoBackups(dir.path);
  const withConfig = { ...env, PACKRAT_CONFIG: s.config };
  assert.deepEqual(sorted(await fishComplete(withConfig, "packrat restore ")), ["app", "db"]);
  assert.deepEqual(
    sorted(await fishComplete(withConfig, "packrat restore app --backup ")),
    sorted([...ids, "latest"]),
  );
  assert.deepEqual(await fishComplete(env, `packrat --config ${s.config} verify app --from `), [
    "local",
  ]);
});

Deno.test("__complete: a broken or missing config prints nothing and exits 0", async () => {
  await using dir = await tempDir("packrat-completions-");
  await Deno.writeTextFile(`${dir.path}/broken.yaml`, "services: [\n");
  for (const config of [`${dir.path}/broken.yaml`, `${dir.path}/missing.yaml`]) {
    for (const args of [["services"], ["destinations"], ["backups", "app"]]) {
      const result = await packrat(["--config", config, "__complete", ...args]);
      assert.deepEqual(result, { code: 0, stdout: "", stderr: "" }, `${config} ${args}`);
    }
  }
  const s = await setup(dir.path, { app: { path: `${dir.path}/app` } });
  assert.equal(assertOk(await s.run(["__complete", "services"])).stdout, "app\n");
  for (const args of [["backups", "nosuch"], ["nonsense"]]) {
    assert.deepEqual(await s.run(["__complete", ...args]), { code: 0, stdout: "", stderr: "" });
  }
  assert.doesNotMatch(assertOk(await packrat(["--help"])).stdout, /__complete/);
});

Deno.test("__complete backups: a destination that never answers is given up on, silently", async () => {
  await using dir = await tempDir("packrat-completions-");
  // Accepts connections and never says a word: without a budget the listing waits forever.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const s = await setup(dir.path, { app: { path: `${dir.path}/app` } }, {
      s3: {
        endpoint: `http://127.0.0.1:${listener.addr.port}`,
        bucket: "silent",
        access_key_id: "id",
        secret_access_key: "secret",
      },
    });
    const started = Date.now();
    const result = await run(
      `${ROOT}/scripts/packrat`,
      ["--config", s.config, "__complete", "backups", "app"],
      { NO_COLOR: "1" },
      20_000,
    );
    const elapsed = Date.now() - started;
    assert.deepEqual(result, { code: 0, stdout: "", stderr: "" });
    assert.ok(held.length > 0, "the S3 destination was never asked");
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("permissions: completions keeps nothing droppable; __complete backups only the network", async () => {
  await using dir = await tempDir("packrat-completions-");
  const s = await setup(dir.path, { app: { path: `${dir.path}/app` } });
  const script = await permissionsAfter(dir.path, ["completions", "bash"]);
  assert.equal(script.code, 0, JSON.stringify(script));
  assert.deepEqual(script.state, {
    run: "prompt",
    write: "prompt",
    net: "prompt",
    read: "granted",
  });
  const services = await permissionsAfter(dir.path, ["-c", s.config, "__complete", "services"]);
  assert.deepEqual(services.state, script.state);
  const backups = await permissionsAfter(dir.path, [
    "-c",
    s.config,
    "__complete",
    "backups",
    "app",
  ]);
  assert.equal(backups.code, 0, JSON.stringify(backups));
  assert.deepEqual(backups.state, {
    run: "prompt",
    write: "prompt",
    net: "granted",
    read: "granted",
  });
  assert.equal(backups.spawn, "refused");
  assert.equal(backups.write, "refused");
});
