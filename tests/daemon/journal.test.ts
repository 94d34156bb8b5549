/**
 * The daemon under systemd: when stderr is the journal stream named by JOURNAL_STREAM, every line
 * carries a syslog priority and no timestamp, and the error priority holds the failures and
 * nothing else — what `journalctl -p err` shows.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ROOT, setup, tempDir } from "../helpers.ts";
import { pollUntil } from "../helpers.ts";
import { ranDaysAgo } from "./support.ts";

Deno.test("daemon: under the journal, lines carry <3>/<4>/<6> priorities and errors are exactly the failures", async () => {
  await using dir = await tempDir("packrat-journal-");
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  const s = await setup(
    dir.path,
    {
      good: { path: `${dir.path}/data`, schedule: "0 3 * * *" },
      bad: {
        path: `${dir.path}/data`,
        schedule: "0 3 * * *",
        pre_backup: { command: "echo 'dump failed' >&2; exit 2" },
      },
    },
    { retry_after: [] },
  );
  await ranDaysAgo(s, "good", 1.5);
  await ranDaysAgo(s, "bad", 1.5);
  const log = `${dir.path}/journal.log`;
  await Deno.writeTextFile(log, "");
  const { dev, ino } = await Deno.stat(log);
  // systemd names the stream it gives the service; stderr must be that very file.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `exec "$0" --config "$1" daemon 2>>"$2"`,
      `${ROOT}/scripts/packrat`,
      s.config,
      log,
    ],
    env: { JOURNAL_STREAM: `${dev}:${ino}`, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
  }).spawn();
  try {
    await pollUntil(
      "both runs to end",
      async () =>
        /good: backup \S+ stored/.test(await Deno.readTextFile(log)) &&
        /bad: backup failed/.test(await Deno.readTextFile(log)),
    );
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal((await child.status).code, 0);
  const lines = (await Deno.readTextFile(log)).trimEnd().split("\n");
  for (const line of lines) {
    assert.match(line, /^<[346]>(?!\d{4}-)/, `no priority or a timestamp: ${line}`);
  }
  const errors = lines.filter((l) => l.startsWith("<3>"));
  assert.deepEqual(errors, [
    "<3>error: bad: backup failed: pre_backup failed (exit 2): dump failed",
  ]);
  assert.ok(lines.includes("<4>warning: bad: pre_backup: dump failed"), lines.join("\n"));
  assert.ok(lines.some((l) => /^<6>good: backup \S+ stored on local$/.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => /^<6>SIGTERM: stopping/.test(l)));
});
