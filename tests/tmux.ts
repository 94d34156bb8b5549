/**
 * Drives the CLI in a real terminal: a detached tmux session, keys sent with send-keys, the
 * screen read with capture-pane.
 *
 * @module
 */

async function tmux(...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  if (out.code !== 0) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

export class Terminal implements AsyncDisposable {
  private constructor(readonly session: string) {}

  /** Starts `command` (a shell command line) in a new 120×40 terminal. */
  static async start(command: string): Promise<Terminal> {
    const session = `packrat-test-${crypto.randomUUID().slice(0, 8)}`;
    // `; sleep` keeps the pane readable after the command exits.
    await tmux(
      "new-session",
      "-d",
      "-x",
      "120",
      "-y",
      "40",
      "-s",
      session,
      `${command}; echo "[exit $?]"; sleep 600`,
    );
    return new Terminal(session);
  }

  screen(): Promise<string> {
    return tmux("capture-pane", "-p", "-t", this.session);
  }

  /** Sends keys: literal text, or tmux key names such as Enter and Down. */
  async keys(...keys: string[]): Promise<void> {
    await tmux("send-keys", "-t", this.session, ...keys);
  }

  async type(text: string): Promise<void> {
    await tmux("send-keys", "-t", this.session, "-l", text);
  }

  /** Polls the screen until `pattern` appears; fails with the screen after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${pattern}; screen:\n${screen}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await tmux("kill-session", "-t", this.session).catch(() => {});
  }
}
