/**
 * The restore walkthrough in a real terminal (tmux): pick the service, pick the backup with the
 * arrow keys (newest first, with ages and places), read the summary, confirm (default No).
 * Answering No or pressing Ctrl-C changes nothing; without a terminal, the flags needed are
 * named at once. `--dry-run` says what would change and changes nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOk, packrat, ROOT, type Setup, setup, show, tempDir } from "../helpers.ts";
import { Terminal } from "../tmux.ts";

/** Three backups of `svc` ("first" … "third"), then the live file says "live". */
async function threeBackups(dir: string): Promise<{ s: Setup; data: string; ids: string[] }> {
  const data = `${dir}/data`;
  await Deno.mkdir(data);
  const s = await setup(dir, { svc: { path: data }, other: { path: data } });
  const ids: string[] = [];
  for (const version of ["first", "second", "third"]) {
    await Deno.writeTextFile(`${data}/version.txt`, version);
    ids.push(/backup (\S+)/.exec(assertOk(await s.run(["backup", "svc"])).stdout)![1]);
  }
  await Deno.writeTextFile(`${data}/version.txt`, "live");
  return { s, data, ids };
}

const escaped = (id: string) => id.replaceAll(".", "\\.");

Deno.test("restore walkthrough: no service → pick it; Down, Enter, summary, Yes → the second-newest is restored", async () => {
  await using dir = await tempDir();
  const { s, data, ids } = await threeBackups(dir.path);

  await using term = await Terminal.start(`${ROOT}/scripts/packrat --config ${s.config} restore`);
  const services = await term.waitFor(/Restore which service\?/);
  assert.match(services, /svc +newest backup (just now|\d+ minutes? ago)/);
  assert.match(services, /other +no backups yet/);
  await term.keys("Enter");

  const menu = await term.waitFor(new RegExp(escaped(ids[0])));
  // Newest first: the third backup is listed above the first one; ages and places shown.
  assert.ok(menu.indexOf(ids[2]) < menu.indexOf(ids[0]), menu);
  assert.match(menu, /\d{4}-\d\d-\d\d \d\d:\d\d +just now +\d+ B .*local/);
  // The newest backup's entry count is known from the history.
  assert.match(menu, new RegExp(`2 entries +local +${escaped(ids[2])}`));
  await term.keys("Down");
  await term.keys("Enter");

  const summary = await term.waitFor(/Restore now\?/);
  assert.match(summary, new RegExp(`Restore svc from backup ${escaped(ids[1])}`));
  assert.match(summary, new RegExp(`into +${data} \\(now 1 entry, 4 B\\)`));
  assert.match(summary, /replaces +everything in it/);
  assert.match(summary, /read from local/);
  assert.equal(await Deno.readTextFile(`${data}/version.txt`), "live", "nothing before the answer");
  await term.keys("Left");
  await term.keys("Enter");
  const done = await term.waitFor(/\[exit \d+\]/);
  assert.match(done, /\[exit 0\]/, done);
  assert.equal(await Deno.readTextFile(`${data}/version.txt`), "second");
});

Deno.test("restore walkthrough: answering No, or Ctrl-C at any step, changes nothing", async () => {
  await using dir = await tempDir();
  const { s, data } = await threeBackups(dir.path);
  const command = `${ROOT}/scripts/packrat --config ${s.config} restore svc`;

  {
    await using term = await Terminal.start(command);
    await term.waitFor(/Restore which backup/);
    await term.keys("Enter");
    await term.waitFor(/Restore now\?/);
    await term.keys("Enter"); // The default is No.
    const done = await term.waitFor(/\[exit \d+\]/);
    assert.match(done, /restore cancelled; nothing was changed/);
    assert.match(done, /\[exit 1\]/);
  }
  for (const step of [/Restore which backup/, /Restore now\?/]) {
    await using term = await Terminal.start(command);
    await term.waitFor(/Restore which backup/);
    if (step.source.includes("now")) {
      await term.keys("Enter");
      await term.waitFor(step);
    }
    await term.keys("C-c");
    const done = await term.waitFor(/\[exit \d+\]/);
    assert.match(done, /\[exit 130\]/, done);
    assert.match(done, /nothing was changed/);
  }
  assert.equal(await Deno.readTextFile(`${data}/version.txt`), "live");
});

Deno.test("restore without a terminal: no --backup → exit 2 within a second, naming --backup", async () => {
  await using dir = await tempDir();
  const { s } = await threeBackups(dir.path);
  const started = performance.now();
  const result = await packrat(["--config", s.config, "restore", "svc"]);
  const ms = performance.now() - started;
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, /not running on a terminal: pass --backup ID \(or --backup latest\)/);
  assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
  const noService = await packrat(["--config", s.config, "restore"]);
  assert.equal(noService.code, 2, show(noService));
  assert.match(noService.stderr, /name the service to restore/);
});

Deno.test("restore --dry-run lists what would be added, replaced and removed, and changes nothing", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(`${data}/docs`, { recursive: true });
  await Deno.writeTextFile(`${data}/same.txt`, "same\n");
  await Deno.writeTextFile(`${data}/changed.txt`, "before\n");
  await Deno.writeTextFile(`${data}/docs/deleted.txt`, "in the backup\n");
  await Deno.symlink("same.txt", `${data}/link`);
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));

  await Deno.writeTextFile(`${data}/changed.txt`, "after, longer\n");
  await Deno.remove(`${data}/docs/deleted.txt`);
  await Deno.remove(`${data}/link`);
  await Deno.symlink("changed.txt", `${data}/link`);
  await Deno.writeTextFile(`${data}/new.txt`, "made since\n");
  await Deno.mkdir(`${data}/newdir`);
  await Deno.writeTextFile(`${data}/newdir/x`, "x");
  const before = await Deno.readTextFile(`${data}/changed.txt`);

  const result = await s.run(["restore", "svc", "--backup", "latest", "--dry-run"]);
  assert.equal(result.code, 0, show(result));
  const lines = result.stdout.split("\n");
  const marked = (mark: string) =>
    lines.filter((l) => l.startsWith(`  ${mark} `)).map((l) => l.slice(4));
  assert.deepEqual(marked("+"), ["docs/deleted.txt"], result.stdout);
  assert.deepEqual(marked("~"), ["changed.txt", "link"], result.stdout);
  assert.deepEqual(marked("-"), ["new.txt", "newdir/"], result.stdout);
  assert.match(
    result.stdout,
    /Would add 1, replace 2, remove 2 \(2 unchanged\); nothing was changed/,
  );
  assert.equal(await Deno.readTextFile(`${data}/changed.txt`), before);
  assert.equal(await Deno.readTextFile(`${data}/new.txt`), "made since\n");

  // With --include, only the selected paths count, and nothing is removed.
  const partial = await s.run([
    "restore",
    "svc",
    "--backup",
    "latest",
    "--dry-run",
    "--include",
    "docs/**",
  ]);
  assert.equal(partial.code, 0, show(partial));
  assert.match(partial.stdout, /Would add 1, replace 0, remove 0 \(1 unchanged\)/);
});

Deno.test("restore --dry-run: a hard link replaced by another file, and a directory the backup has a file in place of", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/a.txt`, "hello\n");
  await Deno.link(`${data}/a.txt`, `${data}/hard.txt`);
  await Deno.writeTextFile(`${data}/willbefile`, "a file in the backup\n");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));

  // The hard link is now an unrelated file; the file is now a directory with contents.
  await Deno.remove(`${data}/hard.txt`);
  await Deno.writeTextFile(`${data}/hard.txt`, "hello\n");
  await Deno.remove(`${data}/willbefile`);
  await Deno.mkdir(`${data}/willbefile`);
  await Deno.writeTextFile(`${data}/willbefile/precious`, "would go\n");

  const full = await s.run(["restore", "svc", "--backup", "latest", "--dry-run"]);
  assert.equal(full.code, 0, show(full));
  assert.match(full.stdout, /^ {2}~ hard\.txt$/m);
  assert.match(full.stdout, /^ {2}~ willbefile$/m);
  assert.match(full.stdout, /^ {2}- willbefile\/precious$/m);

  const partial = await s.run([
    "restore",
    "svc",
    "--backup",
    "latest",
    "--dry-run",
    "--include",
    "willbefile",
  ]);
  assert.equal(partial.code, 0, show(partial));
  assert.match(
    partial.stdout,
    /^ {2}- willbefile\/precious$/m,
    "the include restore deletes it too",
  );
  assert.match(partial.stdout, /remove 1 /);
});
