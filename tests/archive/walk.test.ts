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
