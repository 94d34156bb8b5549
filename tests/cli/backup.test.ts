/** Backup runs through the CLI: what is skipped, what fails, and the exit codes. */
import assert from "node:assert/strict";
import { assertOk, findArchives, setup, tempDir } from "../helpers.ts";

Deno.test("the staging dir, a local destination and restore leftovers inside the service path are not archived", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(`${data}/.packrat-restore-1234`, { recursive: true });
  await Deno.writeTextFile(`${data}/keep.txt`, "keep");
  const s = await setup(dir.path, { svc: { path: data } }, {
    staging_dir: `${data}/staging`,
    local: { path: `${data}/dest` },
  });
  await Deno.mkdir(`${data}/dest`, { recursive: true });
  const first = assertOk(await s.run(["backup", "svc"]));
  assert.match(first.stderr, /left over from an interrupted restore/);
  assertOk(await s.run(["backup", "svc"]));
  const archives = await findArchives(`${data}/dest`, "svc");
  assert.equal(archives.length, 2);
  // The second archive would contain the first if the destination were walked.
  const sizes = await Promise.all(archives.map(async (a) => (await Deno.stat(a)).size));
  assert.ok(Math.abs(sizes[1] - sizes[0]) < 64, `sizes ${sizes}`);
  const verify = assertOk(await s.run(["verify", "svc"]));
  assert.match(verify.stdout, /intact — 2 entries/); // "./" and keep.txt
  // A full restore over the service path would replace the backups themselves: refused.
  const restore = await s.run(["restore", "svc", "--backup", "latest", "--yes"]);
  assert.equal(restore.code, 2, restore.stderr);
  assert.match(restore.stderr, /dest \(a destination or the staging directory\) is inside/);
  assert.equal((await findArchives(`${data}/dest`, "svc")).length, 2);
});

Deno.test("a service that fails completely makes the run fail, even if others succeed", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/ok`);
  await Deno.writeTextFile(`${dir.path}/ok/f`, "x");
  const s = await setup(dir.path, {
    ok: { path: `${dir.path}/ok` },
    gone: { path: `${dir.path}/missing` },
  });
  const result = await s.run(["backup", "ok", "gone"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /gone: cannot read .*missing/);
  assert.equal((await findArchives(s.dest, "ok")).length, 1);
});

Deno.test("a file whose name is not UTF-8 fails the backup instead of vanishing from it", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  // Deno cannot create such a name; the shell can.
  const made = await new Deno.Command("sh", {
    args: ["-c", `printf x > "$1/bad$(printf '\\377\\376')name"`, "sh", data],
  })
    .output();
  assert.equal(made.code, 0);
  const s = await setup(dir.path, { svc: { path: data } });
  const result = await s.run(["backup", "svc"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /name is not valid UTF-8/);
  assert.deepEqual([...Deno.readDirSync(s.dest)], []);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/staging`)], []);
});
