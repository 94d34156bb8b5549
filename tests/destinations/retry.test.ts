/**
 * The retry wrapper around removePartials, hosts and services: transient failures retried,
 * permanent ones not.
 */
import assert from "node:assert/strict";
import type { Destination } from "../../src/destinations/destination.ts";
import { withRetries } from "../../src/destinations/retry.ts";
import { DestinationError } from "../../src/errors.ts";

/** A destination whose removePartials throws the given errors in turn, then succeeds. */
function failingCleanup(errors: Error[]): Destination & { calls: number } {
  const unused = () => Promise.reject(new Error("not part of this test"));
  const destination = {
    name: "fake",
    calls: 0,
    hosts: unused,
    services: unused,
    list: unused,
    put: unused,
    open: unused,
    remove: unused,
    removePartials(host: string, service: string, options: { ids: ReadonlySet<string> }) {
      const error = errors[destination.calls++];
      if (error) return Promise.reject(error);
      return Promise.resolve([`removed ${host}/${service}/${[...options.ids].join(",")}`]);
    },
    close: () => Promise.resolve(),
  };
  return destination;
}

const options = { ids: new Set(["20260101T000000.000Z"]), olderThan: new Date() };
const policy = { attempts: 3, firstDelayMs: 1 };

Deno.test("removePartials is retried after a transient failure", async () => {
  const inner = failingCleanup([new DestinationError("fake", "connection reset")]);
  const retries: string[] = [];
  const lines = await withRetries(inner, (m) => retries.push(m), policy)
    .removePartials("h", "svc", options);
  assert.deepEqual(lines, ["removed h/svc/20260101T000000.000Z"]);
  assert.equal(inner.calls, 2);
  assert.equal(retries.length, 1);
  assert.match(retries[0], /connection reset; retrying the cleanup of interrupted uploads/);
});

Deno.test("removePartials is not retried after a permanent failure", async () => {
  const denied = new DestinationError("fake", "access denied", { permanent: true });
  const inner = failingCleanup([denied]);
  const retries: string[] = [];
  await assert.rejects(
    withRetries(inner, (m) => retries.push(m), policy).removePartials("h", "svc", options),
    denied,
  );
  assert.equal(inner.calls, 1);
  assert.deepEqual(retries, []);
});

Deno.test("hosts and services are passed through and retried after a transient failure", async () => {
  let failures = 1;
  const flaky = <T>(value: T) => () =>
    failures-- > 0
      ? Promise.reject(new DestinationError("fake", "connection reset"))
      : Promise.resolve(value);
  const inner: Destination = {
    ...failingCleanup([]),
    hosts: flaky(["alpha", "beta"]),
    services: (host: string) => flaky([`${host}-svc`])(),
  };
  const retries: string[] = [];
  const wrapped = withRetries(inner, (m) => retries.push(m), policy);
  assert.deepEqual(await wrapped.hosts(), ["alpha", "beta"]);
  failures = 1;
  assert.deepEqual(await wrapped.services("alpha"), ["alpha-svc"]);
  assert.equal(retries.length, 2);
  assert.match(retries[0], /retrying the listing of hosts/);
  assert.match(retries[1], /retrying the listing of services/);
});
