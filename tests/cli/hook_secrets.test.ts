/**
 * Secrets in a hook's environment come from files (`X_file`), are read when the hook runs,
 * and never show up in Packrat's output; an unreadable one stops the hook from running.
 */
import assert from "node:assert/strict";
import { assertOk, filesUnder, setup, tempDir } from "../helpers.ts";

const SECRET = `pa55 'w0rd' $HOME "x"`;

Deno.test("X_file sets X to the file's content (one newline removed) in pre_backup and post_backup", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/f`, "x");
  await Deno.writeTextFile(`${dir.path}/pg-secret`, `${SECRET}\n`, { mode: 0o600 });
  await Deno.writeTextFile(`${dir.path}/expected`, SECRET);
  // Compared in the shell, never printed; the _FILE variable Docker images use stays plain.
  const check = (marker: string) =>
    `[ "$PGPASSWORD" = "$(cat "$EXPECTED")" ] && ` +
    `[ "$POSTGRES_PASSWORD_FILE" = /run/secrets/postgres ] && ` +
    `[ -z "\${PGPASSWORD_file+set}" ] && touch '${dir.path}/${marker}'`;
  const environment = {
    PGPASSWORD_file: `${dir.path}/pg-secret`,
    EXPECTED: `${dir.path}/expected`,
    POSTGRES_PASSWORD_FILE: "/run/secrets/postgres",
  };
  const s = await setup(dir.path, {
    svc: {
      path: data,
      pre_backup: { command: `${check("pre-ok")} || exit 1`, environment },
      post_backup: { command: `${check("post-ok")} || exit 1`, environment },
    },
  });
  const result = assertOk(await s.run(["backup", "svc"]));
  assert.ok((await Deno.stat(`${dir.path}/pre-ok`)).isFile, "pre_backup saw the secret");
  assert.ok((await Deno.stat(`${dir.path}/post-ok`)).isFile, "post_backup saw the secret");
  for (const output of [result.stdout, result.stderr]) {
    assert.ok(!output.includes("pa55"), `the secret leaked:\n${output}`);
  }
});

Deno.test("a missing X_file at run time: clear error naming the key, the hook does not run", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/f`, "x");
  const s = await setup(dir.path, {
    svc: {
      path: data,
      pre_backup: {
        command: `touch '${dir.path}/pre-ran'`,
        environment: { PGPASSWORD_file: `${dir.path}/no-such-secret` },
      },
    },
  });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 3, result.stderr);
  assert.match(
    result.stderr,
    /svc: pre_backup was not run: services\.svc\.pre_backup\.environment\.PGPASSWORD_file: cannot read \S*no-such-secret: no such file/,
  );
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  await assert.rejects(Deno.stat(`${dir.path}/pre-ran`), Deno.errors.NotFound, "the hook ran");
  assert.deepEqual(await filesUnder(s.dest), []);
});
