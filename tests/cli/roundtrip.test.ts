/**
 * Backup → restore round trips through the real CLI on real files, and the archive read by
 * Debian's zstd and GNU tar.
 */
import assert from "node:assert/strict";
import {
  assertOk,
  assertSameTree,
  findArchives,
  type NodeInfo,
  setup,
  snapshotTree,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";

const EXCLUDE = ["**/tmp/**", "**/*.log", "cache/"];

/** Builds the tree every round trip must reproduce exactly. */
async function makeTrickyTree(root: string): Promise<void> {
  const w = (path: string, text: string) => Deno.writeTextFile(`${root}/${path}`, text);
  const longDir = "a-directory-name-that-is-quite-long/another-one-that-is-also-rather-long";
  await Deno.mkdir(`${root}/${longDir}/x-${"n".repeat(120)}`, { recursive: true });
  await w(`${longDir}/x-${"n".repeat(120)}/file-${"f".repeat(150)}.txt`, "deep and long\n");
  await Deno.mkdir(`${root}/日本語/フォルダ`, { recursive: true });
  await w("日本語/フォルダ/ファイル.txt", "unicode\n");
  await w("café ☕ 🐀.md", "emoji name\n");
  await w("plain.txt", "hello\n");
  await w("empty-file", "");
  await Deno.mkdir(`${root}/empty-dir`);
  await Deno.mkdir(`${root}/nested/empty/dirs`, { recursive: true });
  await Deno.symlink("plain.txt", `${root}/link-to-plain`);
  await Deno.symlink("does/not/exist", `${root}/dangling`);
  await Deno.symlink("/etc/hostname", `${root}/absolute-link`);
  await Deno.symlink("日本語", `${root}/dir-link`);
  await Deno.symlink(`../${"y".repeat(110)}/target`, `${root}/long-link`);
  await w("hard-a", "shared inode\n");
  await Deno.link(`${root}/hard-a`, `${root}/hard-b`);
  await Deno.mkdir(`${root}/sub`);
  await Deno.link(`${root}/hard-a`, `${root}/sub/hard-c`);
  await w("script.sh", "#!/bin/sh\necho hi\n");
  await Deno.chmod(`${root}/script.sh`, 0o755);
  await w("secret", "s3cr3t\n");
  await Deno.chmod(`${root}/secret`, 0o600);
  await w("readonly", "ro\n");
  await Deno.chmod(`${root}/readonly`, 0o444);
  await Deno.mkdir(`${root}/private`, { mode: 0o700 });
  await w("private/inside", "x\n");
  await Deno.chmod(`${root}/private`, 0o700);
  await Deno.mkdir(`${root}/shared`);
  await Deno.chmod(`${root}/shared`, 0o2775);
  await writeRandomFile(`${root}/big.bin`, 101 * 1024 * 1024 + 123);
  // Excluded: must not come back.
  await Deno.mkdir(`${root}/var/tmp`, { recursive: true });
  await w("var/tmp/scratch", "excluded\n");
  await w("var/app.log", "excluded\n");
  await w("app.log", "excluded\n");
  await Deno.mkdir(`${root}/cache/deeper`, { recursive: true });
  await w("cache/deeper/blob", "excluded\n");
  // Distinct, sub-second mtimes everywhere (set last, deepest first).
  const paths: string[] = [];
  for await (const e of walk(root)) paths.push(e);
  paths.sort((a, b) => b.length - a.length);
  let t = Date.UTC(2021, 4, 6, 7, 8, 9, 123);
  for (const p of paths) {
    const info = await Deno.lstat(p);
    if (info.isSymlink) continue;
    t -= 86_400_123;
    await Deno.utime(p, new Date(t), new Date(t));
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    yield path;
    if (e.isDirectory) yield* walk(path);
  }
}

/** The source snapshot minus what the excludes drop. */
function expectedAfterExcludes(tree: Map<string, NodeInfo>): Map<string, NodeInfo> {
  const excluded = (p: string) =>
    p === "var/tmp" || p.startsWith("var/tmp/") || p.endsWith(".log") || p === "cache" ||
    p.startsWith("cache/");
  return new Map([...tree].filter(([p]) => !excluded(p)));
}

Deno.test("a tricky tree round-trips exactly; excluded paths are absent", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await makeTrickyTree(data);
  const source = await snapshotTree(data);
  const s = await setup(dir.path, { tricky: { path: data, exclude: EXCLUDE } });

  const backup = assertOk(await s.run(["backup", "tricky"]));
  assert.match(backup.stdout, /tricky: backup \d{8}T\d{6}\.\d{3}Z/);
  assert.match(backup.stdout, /local\s+ok/);
  // The source is untouched by the backup.
  assertSameTree(await snapshotTree(data), source);

  const target = `${dir.path}/restored`;
  const restore = assertOk(
    await s.run(["restore", "tricky", "--backup", "latest", "--target", target]),
  );
  assert.match(restore.stdout, /restored .* into .*restored/);
  const restored = await snapshotTree(target);
  assertSameTree(restored, expectedAfterExcludes(source));
  // Hard links come back as one inode.
  const a = await Deno.stat(`${target}/hard-a`);
  const c = await Deno.stat(`${target}/sub/hard-c`);
  assert.equal(a.ino, c.ino);
  assert.equal(a.nlink, 3);
  // Nothing is left beside the target.
  const leftovers = [];
  for await (const e of Deno.readDir(dir.path)) if (e.name.startsWith(".")) leftovers.push(e.name);
  assert.deepEqual(leftovers, []);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/staging`)], []);

  // Debian's zstd and GNU tar read the decrypted archive and reproduce the same tree.
  const archive = (await findArchives(s.dest, "tricky"))[0];
  const tarDir = `${dir.path}/by-gnu-tar`;
  await Deno.mkdir(tarDir);
  const shell = new Deno.Command("bash", {
    args: [
      "-c",
      `set -o pipefail; "$0" --config "$1" decrypt "$2" | zstd -dc | tee "$3/list.tar" | tar -t > "$3/list.txt" && tar -x -C "$4" --numeric-owner -f "$3/list.tar"`,
      `${Deno.cwd()}/scripts/packrat`,
      s.config,
      archive,
      dir.path,
      tarDir,
    ],
    env: { NO_COLOR: "1" },
  });
  const piped = await shell.output();
  assert.equal(piped.code, 0, new TextDecoder().decode(piped.stderr));
  const listing = (await Deno.readTextFile(`${dir.path}/list.txt`)).split("\n");
  assert.ok(listing.includes("plain.txt"));
  assert.ok(listing.includes("日本語/フォルダ/ファイル.txt"));
  assert.ok(listing.some((l) => l.endsWith(`file-${"f".repeat(150)}.txt`) && l.length > 100));
  assert.ok(!listing.some((l) => l.endsWith(".log")));
  assertSameTree(await snapshotTree(tarDir), expectedAfterExcludes(source));
});

Deno.test("restore into the service path replaces it only with --yes, and --include restores part", async () => {
  await using dir = await tempDir();
  const data = `${dir.path}/data`;
  await Deno.mkdir(`${data}/docs`, { recursive: true });
  await Deno.writeTextFile(`${data}/docs/a.md`, "A1");
  await Deno.writeTextFile(`${data}/db.sql`, "DB1");
  const s = await setup(dir.path, { svc: { path: data } });
  assertOk(await s.run(["backup", "svc"]));
  await Deno.writeTextFile(`${data}/docs/a.md`, "A2");
  await Deno.writeTextFile(`${data}/db.sql`, "DB2");
  await Deno.writeTextFile(`${data}/new.txt`, "new");

  // Without a terminal and without --yes nothing happens.
  const refused = await s.run(["restore", "svc", "--backup", "latest"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--yes/);
  assert.equal(await Deno.readTextFile(`${data}/db.sql`), "DB2");

  // Partial: only docs/** comes back; other files are left as they are.
  assertOk(await s.run(["restore", "svc", "--backup", "latest", "--include", "docs/**", "--yes"]));
  assert.equal(await Deno.readTextFile(`${data}/docs/a.md`), "A1");
  assert.equal(await Deno.readTextFile(`${data}/db.sql`), "DB2");
  assert.equal(await Deno.readTextFile(`${data}/new.txt`), "new");

  // Full: the service path becomes exactly the backup.
  assertOk(await s.run(["restore", "svc", "--backup", "latest", "--yes"]));
  assert.equal(await Deno.readTextFile(`${data}/db.sql`), "DB1");
  await assert.rejects(Deno.stat(`${data}/new.txt`), Deno.errors.NotFound);
});

Deno.test("list --json reports service, id, ISO time, size and destinations", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/f`, "x".repeat(5000));
  const s = await setup(dir.path, {
    one: { path: `${dir.path}/data` },
    two: { path: `${dir.path}/data` },
  });
  assertOk(await s.run(["backup", "--all"]));
  const rows = JSON.parse(assertOk(await s.run(["list", "--json"])).stdout);
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.match(row.id, /^\d{8}T\d{6}\.\d{3}Z$/);
    assert.equal(new Date(row.time).toISOString(), row.time);
    const [file] = await findArchives(s.dest, row.service);
    assert.equal(row.size, (await Deno.stat(file)).size);
    assert.deepEqual(row.destinations, ["local"]);
    // From the archive's header, read without downloading the archive.
    assert.equal(row.host, "testhost");
    assert.equal(row.source_path, `${dir.path}/data`);
    assert.match(row.packrat_version, /^\d+\.\d+\.\d+$/);
  }
  assert.deepEqual(rows.map((r: { service: string }) => r.service).sort(), ["one", "two"]);
  const table = assertOk(await s.run(["list", "one"])).stdout;
  assert.match(table, /^SERVICE\s+TIME\s+AGE\s+SIZE\s+local\s+ID$/m);
  assert.match(
    table,
    new RegExp(
      `^one +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +just now +\\d+ B +✓ +${
        rows.find((r: { service: string }) => r.service === "one").id.replaceAll(".", "\\.")
      }$`,
      "m",
    ),
  );
  assert.doesNotMatch(table, /\btwo\b/);
  const verify = assertOk(await s.run(["verify"]));
  assert.match(verify.stdout, /one: backup .* on local is intact — 2 entries/);
});
