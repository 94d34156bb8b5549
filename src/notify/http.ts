/** @module One HTTP request for a sender; its errors never quote the URL, which holds tokens. */

import { messageOf } from "../errors.ts";

/** A request that got no 2xx answer: `HTTP 500`, or why no answer came. Never holds the URL. */
export class NotifyRequestError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "NotifyRequestError";
  }

  /** A client error (a wrong token, an unknown check) that a retry would only repeat. */
  get permanent(): boolean {
    return this.status !== undefined && this.status < 500 && this.status !== 408 &&
      this.status !== 429;
  }
}

/**
 * Sends one request to `url` and discards the answer's body.
 *
 * @throws {NotifyRequestError} on a non-2xx answer or a failed connection; the signal's reason
 * (a `TimeoutError` for `AbortSignal.timeout`) when `signal` aborts.
 */
export async function request(url: string, init: RequestInit, signal: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    // Deno's message is "fetch failed"; the reason, and the URL, are in its cause.
    throw new NotifyRequestError(
      redactUrl(messageChain(error), url).replace("error sending request for url (<url>): ", ""),
    );
  }
  await response.body?.cancel();
  if (!response.ok) throw new NotifyRequestError(`HTTP ${response.status}`, response.status);
}

/**
 * `message` with `url` (as given, and as parsed, which may differ in escaping) and anything else
 * that looks like a URL replaced by `<url>`.
 */
export function redactUrl(message: string, url: string): string {
  const variants = [url];
  if (URL.canParse(url)) variants.push(new URL(url).href);
  let text = message;
  for (const variant of variants.filter((v) => v !== "").sort((a, b) => b.length - a.length)) {
    text = text.replaceAll(variant, "<url>");
  }
  // Keeps the punctuation that closes the sentence around a URL: "(http://…): reason".
  return text.replace(
    /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi,
    (found) => `<url>${/[)\].,:;]*$/.exec(found)![0]}`,
  );
}

function messageChain(error: unknown): string {
  const messages: string[] = [];
  for (let e = error; e !== undefined && messages.length < 5; e = (e as Error).cause) {
    messages.push(messageOf(e));
    if (!(e instanceof Error)) break;
  }
  return messages.join(": ");
}
