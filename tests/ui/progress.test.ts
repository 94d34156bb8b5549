/** Progress without a terminal: plain lines, spaced out; and the transfer line's arithmetic. */
import assert from "node:assert/strict";
import { progressBoard, transferLine } from "../../src/ui/progress.ts";

Deno.test("progress without a terminal: one plain line per interval, never one per update", async () => {
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: () => {}, error: () => {} };
  const board = progressBoard(log, { plain: true, plainEveryMs: 100 });
  const started = performance.now();
  let updates = 0;
  while (performance.now() - started < 350) {
    board.update([`svc: archiving ${updates++}`, "  some/path"]);
    await new Promise((r) => setTimeout(r, 5));
  }
  board.done();
  assert.ok(updates > 30, `${updates} updates`);
  // Nothing in the first interval, then at most one line per interval.
  assert.ok(lines.length >= 2 && lines.length <= 3, `${lines.length} lines: ${lines}`);
  assert.match(lines[0], /^svc: archiving \d+; some\/path$/, "one line, parts joined");
});

Deno.test("progress without a terminal and quiet: nothing at all", () => {
  const board = progressBoard(undefined, { plain: true, plainEveryMs: 0 });
  board.update(["anything"]);
  board.done();
});

Deno.test("transferLine: percent, bytes, rate and ETA; done at the end", () => {
  const tenSecondsAgo = performance.now() - 10_000;
  assert.match(
    transferLine(250_000_000, 1_000_000_000, tenSecondsAgo),
    /^ 25% {2}250\.0 MB of 1\.00 GB {2}25\.0 MB\/s {2}ETA 30s$/,
  );
  assert.match(transferLine(1000, 1000, tenSecondsAgo), /^100% .* done$/);
});
