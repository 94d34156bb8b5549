/**
 * Log lines as journald and plain files receive them. A child Deno writes to a real file on
 * fd 2, so JOURNAL_STREAM can name that file's device and inode exactly as systemd would name
 * its socket.
 */
import assert from "node:assert/strict";
import { ROOT } from "../helpers.ts";

const CHILD = `import { stderrLogger } from ${JSON.stringify(`${ROOT}/src/ui/log.ts`)};
const log = stderrLogger(false, { timestamps: Deno.args[0] === "timestamps" });
log.info("backup of app started");
log.warn("destination s3 is slow");
log.error("destination synology failed\\nsecond line");
`;

/** The message lines, without any prefix. */
const MESSAGES = [
  "backup of app started",
  "warning: destination s3 is slow",
  "error: destination synology failed",
  "second line",
];

/**
 * Runs the child with its stderr on a fresh file and returns what it wrote. `journalStream`
 * gets the log file and the child script and returns JOURNAL_STREAM (unset when absent).
 */
async function logLines(
  mode: "plain" | "timestamps",
  journalStream?: (files: { log: string; script: string }) => string,
): Promise<string[]> {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/child.ts`;
    const log = `${dir}/stderr.log`;
    await Deno.writeTextFile(script, CHILD);
    await Deno.writeTextFile(log, "");
    const { code } = await new Deno.Command("sh", {
      args: [
        "-c",
        'unset NO_COLOR JOURNAL_STREAM; [ -z "$1" ] || export JOURNAL_STREAM="$1"; ' +
        'exec "$0" run --quiet -P=packrat --config "$2" "$3" "$4" 2>"$5"',
        Deno.execPath(),
        journalStream?.({ log, script }) ?? "",
        `${ROOT}/deno.json`,
        script,
        mode,
        log,
      ],
      stdout: "null",
      stderr: "inherit",
    }).output();
    const text = await Deno.readTextFile(log);
    assert.equal(code, 0, text);
    assert.ok(text.endsWith("\n"), JSON.stringify(text));
    return text.slice(0, -1).split("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function devIno(path: string): string {
  const { dev, ino } = Deno.statSync(path);
  return `${dev}:${ino}`;
}

Deno.test("in the journal every line starts with its syslog priority, without timestamps", async () => {
  // Timestamps asked for, as the daemon does: journald records its own.
  const lines = await logLines("timestamps", ({ log }) => devIno(log));
  assert.deepEqual(lines, [
    "<6>backup of app started",
    "<4>warning: destination s3 is slow",
    "<3>error: destination synology failed",
    "<3>second line",
  ]);
});

Deno.test("stderr redirected away from the journal: no priority prefixes", async () => {
  assert.deepEqual(await logLines("plain", ({ script }) => devIno(script)), MESSAGES);
  assert.deepEqual(await logLines("plain", () => "not-a-device:pair"), MESSAGES);
  assert.deepEqual(await logLines("plain"), MESSAGES);
});

Deno.test("outside the journal the daemon's lines start with an ISO-8601 UTC time", async () => {
  const before = Math.floor(Date.now() / 1000) * 1000;
  const lines = await logLines("timestamps", ({ script }) => devIno(script));
  const after = Date.now();
  const stamped = lines.map((line) => {
    const match = line.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (.*)$/);
    assert.ok(match, `no timestamp: ${JSON.stringify(line)}`);
    const time = Date.parse(match[1]);
    assert.ok(before <= time && time <= after, `${match[1]} is not the time of the run`);
    return match[2];
  });
  assert.deepEqual(stamped, MESSAGES);
});
