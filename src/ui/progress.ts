/**
 * Progress people can read: on a terminal, one block redrawn in place (at most 10 times a
 * second); elsewhere — a log file, the journal — a plain line at most every 30 s, so a long run
 * shows it is alive without flooding the log.
 *
 * @module
 */
import type { RunContext } from "../backup/run.ts";
import { formatBytes } from "../io/files.ts";
import { clearProgressLine, type Logger, showProgress } from "./log.ts";
import { formatAge } from "./time.ts";

const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 30_000;

/** Where progress goes: `update` as often as you like; `done` removes the block. */
export interface ProgressBoard {
  update(lines: readonly string[]): void;
  done(): void;
}

/**
 * A board on the terminal when stderr is one (unless `plain`), else plain lines through `log`
 * (none when `log` is undefined: quiet).
 */
export function progressBoard(
  log: Logger | undefined,
  options: { plain?: boolean; plainEveryMs?: number } = {},
): ProgressBoard {
  // Quiet: no progress at all, on a terminal or not.
  if (!log) return { update() {}, done() {} };
  const terminal = !options.plain && Deno.stderr.isTerminal();
  const plainEveryMs = options.plainEveryMs ?? PLAIN_EVERY_MS;
  let last = terminal ? 0 : performance.now();
  return {
    update(lines) {
      const now = performance.now();
      if (terminal) {
        if (now - last < REDRAW_MS) return;
        last = now;
        showProgress(lines);
      } else if (now - last >= plainEveryMs) {
        last = now;
        log.info(lines.map((l) => l.trim()).join("; "));
      }
    },
    done() {
      if (terminal) clearProgressLine();
    },
  };
}

/** Bytes per second, for `done` bytes since `startedMs` (a `performance.now()` time). */
export function rate(done: number, startedMs: number): number {
  const seconds = (performance.now() - startedMs) / 1000;
  return seconds > 0 ? done / seconds : 0;
}

/** `12.3 MB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** `45%  180 MB of 400 MB  30.0 MB/s  ETA 7s` for a transfer of known size. */
export function transferLine(done: number, total: number, startedMs: number): string {
  const speed = rate(done, startedMs);
  const percent = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
  const eta = done >= total
    ? "done"
    : speed > 0
    ? `ETA ${formatAge(((total - done) / speed) * 1000)}`
    : "";
  return `${String(percent).padStart(3)}%  ${formatBytes(done)} of ${formatBytes(total)}  ${
    formatRate(speed)
  }  ${eta}`.trimEnd();
}

/**
 * Transfer lines for several transfers told apart by a key (a copy, a destination): each rate
 * and ETA counts from the moment its transfer first reported.
 */
export function transfers(): (key: string, done: number, total: number) => string {
  const started = new Map<string, number>();
  return (key, done, total) => {
    if (!started.has(key)) started.set(key, performance.now());
    return transferLine(done, total, started.get(key)!);
  };
}

/**
 * What a backup shows while it runs: the archive (entries, bytes read and written, rate, the
 * current path), then the upload to each destination (percent, bytes, rate, ETA).
 */
export function backupProgress(
  board: ProgressBoard,
): Pick<RunContext, "onProgress" | "onUploadProgress"> {
  const started = performance.now();
  const uploads = new Map<string, { sent: number; started: number }>();
  return {
    onProgress: (name, p) =>
      board.update([
        `${name}: archiving  ${p.entries.toLocaleString("en-US")} entries  ${
          formatBytes(p.bytesIn)
        } read → ${formatBytes(p.bytesOut)} written  ${formatRate(rate(p.bytesIn, started))}`,
        `  ${p.path ?? ""}`,
      ]),
    onUploadProgress: (name, destination, sent, size) => {
      const upload = uploads.get(destination) ?? { sent: 0, started: performance.now() };
      // A retry starts again from 0: so do its rate and ETA.
      if (sent < upload.sent) upload.started = performance.now();
      upload.sent = sent;
      uploads.set(destination, upload);
      const width = Math.max(...[...uploads.keys()].map((d) => d.length));
      board.update([
        `${name}: uploading ${formatBytes(size)}`,
        ...[...uploads].map(([d, u]) =>
          `  ${d.padEnd(width)}  ${transferLine(u.sent, size, u.started)}`
        ),
      ]);
    },
  };
}
