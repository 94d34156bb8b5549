import assert from "node:assert/strict";
import { compileGlobs, globToRegExp } from "../../src/archive/glob.ts";

const matches = (pattern: string, path: string, isDir = false) =>
  compileGlobs([pattern])(path, isDir);

Deno.test("** matches any depth, including none", () => {
  assert.ok(matches("**/.git", ".git", true));
  assert.ok(matches("**/.git", "a/b/.git", true));
  assert.ok(!matches("**/.git", "a/.github", true));
  assert.ok(matches("**/*.log", "x.log"));
  assert.ok(matches("**/*.log", "deep/er/x.log"));
  assert.ok(!matches("**/*.log", "x.log.gz"));
});

Deno.test("dir/** matches the directory itself, so it is skipped whole", () => {
  assert.ok(matches("**/tmp/**", "tmp", true));
  assert.ok(matches("**/tmp/**", "a/tmp", true));
  assert.ok(matches("**/tmp/**", "a/tmp/f"));
  assert.ok(!matches("**/tmp/**", "a/tmpx/f"));
  assert.ok(matches("**/cache/*", "a/cache/f"));
  assert.ok(!matches("**/cache/*", "a/cache", true));
});

Deno.test("* stays within one segment; patterns are anchored at the service path", () => {
  assert.ok(matches("*.tmp", "a.tmp"));
  assert.ok(!matches("*.tmp", "dir/a.tmp"));
  assert.ok(matches("data/*.db", "data/x.db"));
  assert.ok(!matches("data/*.db", "data/sub/x.db"));
  assert.ok(matches("/top", "top"));
});

Deno.test("classes, alternatives, ? and escapes", () => {
  assert.ok(matches("file[0-9].txt", "file7.txt"));
  assert.ok(!matches("file[!0-9].txt", "file7.txt"));
  assert.ok(matches("*.{jpg,png}", "a.png"));
  assert.ok(!matches("*.{jpg,png}", "a.gif"));
  assert.ok(matches("?.md", "a.md"));
  assert.ok(!matches("?.md", "ab.md"));
  assert.ok(matches("a\\*b", "a*b"));
  assert.ok(!matches("a\\*b", "axb"));
  assert.ok(matches("(x)+.txt", "(x)+.txt"));
});

Deno.test("a trailing slash matches directories only", () => {
  assert.ok(matches("build/", "build", true));
  assert.ok(!matches("build/", "build", false));
});

Deno.test("bad patterns are rejected with the pattern named", () => {
  assert.throws(() => globToRegExp("a[b"), /unclosed "\[" in pattern "a\[b"/);
  assert.throws(() => globToRegExp("{a,b"), /unclosed "\{"/);
  assert.throws(() => globToRegExp("/"), /empty pattern/);
});

Deno.test("a character class that is not valid is rejected, not passed on to RegExp", () => {
  assert.throws(
    () => globToRegExp("file[z-a]"),
    /invalid character class "\[z-a\]" in pattern "file\[z-a\]"/,
  );
  assert.ok(globToRegExp("[!a-z]x").test("Bx"));
});
