import assert from "node:assert/strict";
import { readSecret } from "../../src/config/secrets.ts";
import { ConfigError } from "../../src/errors.ts";

const KEY = "backup.s3.secret_access_key_file";

/** Runs `body` with a fresh temp dir that is removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "packrat-secrets-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("an inline secret is returned as it is", async () => {
  const secret = { kind: "inline", value: "s3cr3t\n", key: "backup.s3.secret_access_key" } as const;
  assert.equal(await readSecret(secret), "s3cr3t\n");
});

Deno.test("a secret file loses exactly one trailing newline", async () => {
  await inTempDir(async (dir) => {
    const cases: Record<string, string> = {
      "plain": "s3cr3t",
      "s3cr3t\n": "s3cr3t",
      "s3cr3t\r\n": "s3cr3t",
      "s3cr3t\n\n": "s3cr3t\n",
      "two\nlines\n": "two\nlines",
      " spaced \n": " spaced ",
    };
    for (const [content, expected] of Object.entries(cases)) {
      const path = `${dir}/secret`;
      await Deno.writeTextFile(path, content === "plain" ? expected : content);
      assert.equal(await readSecret({ kind: "file", path, key: KEY }), expected);
    }
  });
});

Deno.test("a missing secret file names the key and the path", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/absent`;
    await assert.rejects(
      () => readSecret({ kind: "file", path, key: KEY }),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message === `${KEY}: cannot read ${path}: no such file`,
    );
  });
});

Deno.test("a secret path that is a directory is refused", async () => {
  await inTempDir(async (dir) => {
    await assert.rejects(
      () => readSecret({ kind: "file", path: dir, key: KEY }),
      (error: Error) => error instanceof ConfigError && error.message.startsWith(`${KEY}: `),
    );
  });
});

Deno.test("an empty secret is an error that never shows content", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/empty`;
    await Deno.writeTextFile(path, "\n");
    await assert.rejects(
      () => readSecret({ kind: "file", path, key: KEY }),
      (error: Error) =>
        error instanceof ConfigError && error.message === `${KEY} (${path}) is empty`,
    );
  });
  await assert.rejects(
    () => readSecret({ kind: "inline", value: "", key: "notify.webhook.url" }),
    (error: Error) =>
      error instanceof ConfigError && error.message === "notify.webhook.url is empty",
  );
});
