/**
 * Retries with exponential backoff around any destination: transient failures (a dropped
 * connection, a 5xx, a timeout) are tried again; permanent ones (wrong credentials, a refused
 * host key) and aborted uploads are not.
 *
 * @module
 */
import { DestinationError } from "../errors.ts";
import type { Destination } from "./destination.ts";

export interface RetryPolicy {
  readonly attempts: number;
  readonly firstDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, firstDelayMs: 1000 };

export function withRetries(
  destination: Destination,
  onRetry: (message: string) => void = () => {},
  policy: RetryPolicy = DEFAULT_RETRY,
): Destination {
  const retrying = async <T>(what: string, run: () => Promise<T>, signal?: AbortSignal) => {
    for (let attempt = 1;; attempt++) {
      try {
        return await run();
      } catch (error) {
        const transient = !(error instanceof DestinationError && error.permanent);
        if (!transient || attempt >= policy.attempts || signal?.aborted) throw error;
        const delay = policy.firstDelayMs * 2 ** (attempt - 1);
        onRetry(
          `${(error as Error).message}; retrying ${what} in ${delay / 1000} s (attempt ${
            attempt + 1
          } of ${policy.attempts})`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
  return {
    name: destination.name,
    hosts: () => retrying("the listing of hosts", () => destination.hosts()),
    services: (host) => retrying("the listing of services", () => destination.services(host)),
    list: (host, service) => retrying("the listing", () => destination.list(host, service)),
    put: (host, service, id, path, size, signal, onProgress, options) =>
      retrying(
        "the upload",
        () => destination.put(host, service, id, path, size, signal, onProgress, options),
        signal,
      ),
    open: (host, service, id) =>
      retrying("the download", () => destination.open(host, service, id)),
    remove: (host, service, id) =>
      retrying("the deletion", () => destination.remove(host, service, id)),
    removePartials: (host, service, options) =>
      retrying(
        "the cleanup of interrupted uploads",
        () => destination.removePartials(host, service, options),
      ),
    close: () => destination.close(),
  };
}
