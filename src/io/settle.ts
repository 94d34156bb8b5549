/** Promise helpers for pipelines that keep several operations in flight. @module */

/**
 * Marks a promise that is awaited later, in order, as handled now, so a failure while an
 * earlier one is awaited is not reported as an unhandled rejection.
 */
export function settleLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
