/**
 * Log lines on stderr. On a terminal they are coloured; under systemd, when stderr is the
 * journal stream, each line starts with a syslog priority (`<3>` error, `<4>` warning, `<6>`
 * info) so journalctl shows errors as errors. Elsewhere the daemon can ask for timestamps.
 *
 * @module
 */
import { fstatSync } from "node:fs";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface LoggerOptions {
  /** Starts lines with an ISO-8601 UTC time, except in the journal, which records its own. */
  readonly timestamps?: boolean;
}

const encoder = new TextEncoder();

/**
 * A logger writing lines (with `warning:`/`error:` marks) to stderr; `quiet` drops the info lines.
 *
 * @example
 * ```ts
 * const log = stderrLogger(false, { timestamps: true });
 * log.warn("destination s3 is slow"); // 2026-11-30T22:51:42Z warning: destination s3 is slow
 * ```
 */
export function stderrLogger(quiet = false, options: LoggerOptions = {}): Logger {
  const journal = stderrIsJournal();
  const colour = !journal && Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR");
  const timestamps = !journal && options.timestamps === true;
  const paint = (code: string, text: string) => colour ? `\x1b[${code}m${text}\x1b[0m` : text;
  const write = (priority: number, message: string) => {
    clearProgressLine();
    const prefix = journal ? `<${priority}>` : timestamps ? `${now()} ` : "";
    // journald reads every line as an entry of its own: each one needs the prefix.
    const lines = message.split("\n").map((line) => `${prefix}${line}\n`);
    Deno.stderr.writeSync(encoder.encode(lines.join("")));
  };
  return {
    info: (message) => quiet || write(6, message),
    warn: (message) => write(4, `${paint("33", "warning:")} ${message}`),
    error: (message) => write(3, `${paint("31", "error:")} ${message}`),
  };
}

/**
 * Whether stderr is systemd's journal stream. systemd puts the stream's `device:inode` in
 * JOURNAL_STREAM; once stderr is redirected elsewhere they no longer match (systemd.exec(5)).
 */
function stderrIsJournal(): boolean {
  const stream = Deno.env.get("JOURNAL_STREAM");
  if (!stream) return false;
  try {
    // Deno.stderr has no stat(), and Deno wants --allow-all to stat /proc/self/fd/2.
    const { dev, ino } = fstatSync(2, { bigint: true });
    return stream === `${dev}:${ino}`;
  } catch {
    return false;
  }
}

/** The current time at second precision, e.g. `2026-11-30T22:51:42Z`. */
function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

/** Lines of the progress block now on the screen. */
let progressShown = 0;

/**
 * Draws a progress block on a terminal (nothing otherwise), in place of the one before: the
 * cursor goes back up over it and the new lines overwrite it, so the terminal's scrollback
 * keeps only the log lines. Lines are cut to the terminal's width (a wrapped line would throw
 * the count off).
 */
export function showProgress(lines: string | readonly string[]): void {
  if (!Deno.stderr.isTerminal()) return;
  let width = 80;
  try {
    width = Deno.consoleSize().columns;
  } catch {
    // No size available: keep the default.
  }
  const block = (typeof lines === "string" ? [lines] : lines).map((l) =>
    fitColumns(printable(l), width - 1)
  );
  // Autowrap off while drawing: a line that still overflows is cut, never wrapped.
  Deno.stderr.writeSync(
    encoder.encode(`${eraseBlock()}\x1b[?7l${block.join("\n")}\x1b[?7h`),
  );
  progressShown = block.length;
}

/** Removes the progress block, if one is drawn. */
export function clearProgressLine(): void {
  if (progressShown === 0) return;
  Deno.stderr.writeSync(encoder.encode(eraseBlock()));
  progressShown = 0;
}

/** File names may hold control characters: shown as `?`, never sent to the terminal. */
function printable(line: string): string {
  // deno-lint-ignore no-control-regex
  return line.replace(/[\x00-\x1f\x7f-\x9f]/g, "?");
}

/** Cut to `columns`, counting anything beyond ASCII as two columns (wide characters). */
function fitColumns(line: string, columns: number): string {
  let used = 0;
  let end = 0;
  for (const char of line) {
    used += char.charCodeAt(0) < 0x80 ? 1 : 2;
    if (used > columns) break;
    end += char.length;
  }
  return line.slice(0, end);
}

/** Back to the first line of the block, and clear from there down. */
function eraseBlock(): string {
  const up = progressShown > 1 ? `\x1b[${progressShown - 1}A` : "";
  return `\r${up}\x1b[J`;
}
