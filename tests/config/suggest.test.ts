import assert from "node:assert/strict";
import { closestWord, editDistance } from "../../src/config/suggest.ts";

Deno.test("editDistance counts insertions, deletions, substitutions and swaps", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("path", "path"), 0);
  assert.equal(editDistance("retain_backup", "retain_backups"), 1);
  assert.equal(editDistance("prot", "port"), 1);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
});

Deno.test("closestWord suggests only likely typos", () => {
  const keys = ["path", "schedule", "retain_backups", "retain", "docker", "exclude"];
  assert.equal(closestWord("retain_backup", keys), "retain_backups");
  assert.equal(closestWord("retian", keys), "retain");
  assert.equal(closestWord("Path", keys), "path");
  assert.equal(closestWord("shedule", keys), "schedule");
  assert.equal(closestWord("color", keys), undefined);
  assert.equal(closestWord("on", ["of"]), "of");
  assert.equal(closestWord("xy", ["on"]), undefined);
});
