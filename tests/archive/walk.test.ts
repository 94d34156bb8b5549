import assert from "node:assert/strict";
import { compileGlobs } from "../../src/archive/glob.ts";
import { walkTree } from "../../src/archive/walk.ts";
import { tempDir } from "../helpers.ts";

Deno.test("walk: name order, dirs before contents, excluded dirs not descended", async () => {
  await using dir = await tempDir();
  for (const d of ["b", "a/tmp/deep", "c"]) {
    await Deno.mkdir(`${dir.path}/${d}`, { recursive: true });
  }
  for (const f of ["b/2", "b/1", "a/x", "a/tmp/deep/y", "z"]) {
    await Deno.writeTextFile(`${dir.path}/${f}`, f);
  }
  await Deno.chmod(`${dir.path}/a/tmp`, 0o000); // would fail if it were descended into as non-root
  const paths = [...walkTree(dir.path, compileGlobs(["**/tmp/**"]), () => {})].map((e) => e.path);
  await Deno.chmod(`${dir.path}/a/tmp`, 0o755);
  assert.deepEqual(paths, ["./", "a/", "a/x", "b/", "b/1", "b/2", "c/", "z"]);
});

Deno.test("walk: files and directories that vanish mid-walk are warnings, not errors", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/gone-dir`);
  await Deno.writeTextFile(`${dir.path}/gone-dir/f`, "x");
  for (const f of ["a", "b", "c"]) await Deno.writeTextFile(`${dir.path}/${f}`, f);
  const warnings: string[] = [];
  const seen: string[] = [];
  for (const entry of walkTree(dir.path, () => false, (m) => warnings.push(m))) {
    seen.push(entry.path);
    // Delete the next entries after they were listed but before they are looked at.
    if (entry.path === "a") await Deno.remove(`${dir.path}/b`);
    if (entry.path === "c") await Deno.remove(`${dir.path}/gone-dir`, { recursive: true });
  }
  assert.deepEqual(seen, ["./", "a", "c"]);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /\/b vanished during the backup; skipped/);
  assert.match(warnings[1], /\/gone-dir vanished during the backup; skipped/);
});

Deno.test("walk: a missing root is an error naming it", () => {
  assert.throws(
    () => [...walkTree("/nonexistent/packrat-root", () => false, () => {})],
    /cannot read \/nonexistent\/packrat-root/,
  );
});

/** Creates `dir/<prefix><0xFF 0xFE><suffix>`; Deno cannot create a name that is not UTF-8. */
async function makeNonUtf8Name(dir: string, prefix: string, suffix: string): Promise<void> {
  const made = await new Deno.Command("sh", {
    args: ["-c", `printf x > "$1/$2$(printf '\\377\\376')$3"`, "sh", dir, prefix, suffix],
  }).output();
  assert.equal(made.code, 0, "could not create the test file");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.ok(names.some((n) => n.includes("\uFFFD")), `not created: ${names}`);
}

Deno.test("walk: an excluded name is never examined, so a non-UTF-8 name can be excluded", async () => {
  await using dir = await tempDir();
  await makeNonUtf8Name(dir.path, "bad", ".tmp");
  await Deno.mkdir(`${dir.path}/cache`);
  await makeNonUtf8Name(`${dir.path}/cache`, "x", "");
  await Deno.writeTextFile(`${dir.path}/keep`, "k");
  const warnings: string[] = [];
  const paths = [
    ...walkTree(
      dir.path,
      compileGlobs(["**/*.tmp", "cache/"]),
      (m) => warnings.push(m),
    ),
  ].map((e) => e.path);
  assert.deepEqual(paths, ["./", "keep"]);
  assert.deepEqual(warnings, []);
});

Deno.test("walk: a non-UTF-8 name that is not excluded still fails, naming the fix", async () => {
  await using dir = await tempDir();
  await makeNonUtf8Name(dir.path, "bad", ".tmp");
  assert.throws(
    () => [...walkTree(dir.path, compileGlobs(["*.log", "bad*/"]), () => {})],
    /its name is not valid UTF-8; rename it or exclude it/,
  );
});

for (const replacement of ["a file", "nothing"]) {
  Deno.test(`walk: a directory replaced by ${replacement} before it is listed is a warning`, async () => {
    await using dir = await tempDir();
    await Deno.mkdir(`${dir.path}/d`);
    await Deno.writeTextFile(`${dir.path}/d/inside`, "i");
    await Deno.writeTextFile(`${dir.path}/e`, "e");
    const warnings: string[] = [];
    const seen: string[] = [];
    // The generator lists a directory only when it is resumed after yielding the directory.
    for (const entry of walkTree(dir.path, () => false, (m) => warnings.push(m))) {
      seen.push(entry.path);
      if (entry.path === "d/") {
        await Deno.remove(`${dir.path}/d`, { recursive: true });
        if (replacement === "a file") await Deno.writeTextFile(`${dir.path}/d`, "now a file");
      }
    }
    assert.deepEqual(seen, ["./", "d/", "e"]);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0],
      replacement === "a file"
        ? /\/d is no longer a directory \(replaced during the backup\); its contents were skipped/
        : /\/d vanished during the backup; skipped/,
    );
  });
}
