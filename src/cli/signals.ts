/**
 * SIGINT and SIGTERM become an AbortSignal, so a run stops taking new work, aborts uploads,
 * cleans up (staging files, multipart uploads) and exits with the "interrupted" code instead
 * of dying mid-step.
 *
 * @module
 */
import { InterruptedError } from "../errors.ts";

/** Runs `work` with a signal that aborts on SIGINT/SIGTERM; maps the abort to InterruptedError. */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((name) => {
    const handler = () => controller.abort(new InterruptedError(name));
    Deno.addSignalListener(name, handler);
    return [name, handler] as const;
  });
  try {
    return await work(controller.signal);
  } catch (error) {
    // An InterruptedError of the work's own says more (e.g. that the backup was stored).
    if (controller.signal.aborted && !(error instanceof InterruptedError)) {
      throw controller.signal.reason;
    }
    throw error;
  } finally {
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
  }
}
