/**
 * Plain log lines on stderr that read well in journalctl; colour only on a terminal.
 *
 * @module
 */

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const encoder = new TextEncoder();

/** A logger writing `packrat: message` lines (with `warning:`/`error:` marks) to stderr. */
export function stderrLogger(quiet = false): Logger {
  const tty = Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR");
  const paint = (code: string, text: string) => tty ? `\x1b[${code}m${text}\x1b[0m` : text;
  const write = (line: string) => {
    clearProgressLine();
    Deno.stderr.writeSync(encoder.encode(`${line}\n`));
  };
  return {
    info: (message) => quiet || write(message),
    warn: (message) => write(`${paint("33", "warning:")} ${message}`),
    error: (message) => write(`${paint("31", "error:")} ${message}`),
  };
}

let progressShown = false;

/** Draws a one-line progress display on a terminal (nothing otherwise). */
export function showProgress(text: string): void {
  if (!Deno.stderr.isTerminal()) return;
  let width = 80;
  try {
    width = Deno.consoleSize().columns;
  } catch {
    // No size available: keep the default.
  }
  Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text.slice(0, width - 1)}`));
  progressShown = true;
}

/** Removes the progress line, if one is drawn. */
export function clearProgressLine(): void {
  if (!progressShown) return;
  Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
  progressShown = false;
}
