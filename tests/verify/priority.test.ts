/**
 * How a scheduled verify stays out of the way: its decompression threads run at nice 19 (and
 * only they), and `max_rate` paces its reads.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ZstdPool } from "../../src/archive/zstd_pool.ts";
import { paced } from "../../src/restore/verify.ts";

/** The nice value of each thread of this process, as `ps` reports them. */
async function threadNiceValues(): Promise<number[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-L", "-o", "nice=", "-p", String(Deno.pid)],
  }).output();
  return new TextDecoder().decode(stdout).trim().split(/\s+/).map(Number);
}

/** Waits until the pool's workers have started (one job each). */
async function warmUp(pool: ZstdPool): Promise<void> {
  const input = new ArrayBuffer(3 * 1024 * 1024);
  await Promise.all(
    Array.from(
      { length: pool.size },
      () => pool.run("compress", input.slice(0), 1024, new ArrayBuffer(3 * 1024 * 1024), 1),
    ),
  );
}

Deno.test("a low-priority pool's workers run at nice 19; a normal pool's, and the main thread, at 0", async () => {
  const before = await threadNiceValues();
  assert.ok(before.every((nice) => nice === 0), `before: ${before}`);
  const low = new ZstdPool(2, { lowPriority: true });
  const normal = new ZstdPool(1);
  try {
    await warmUp(low);
    await warmUp(normal);
    const after = await threadNiceValues();
    assert.equal(after.filter((nice) => nice === 19).length, 2, `threads: ${after}`);
    assert.ok(after.filter((nice) => nice !== 19).every((nice) => nice === 0), `threads: ${after}`);
  } finally {
    low.close();
    normal.close();
  }
});

function chunks(count: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ === count) controller.close();
      else controller.enqueue(new Uint8Array(size));
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of stream) total += chunk.length;
  return total;
}

Deno.test("paced: 1 MiB at 2 MiB/s takes at least about half a second, and every byte arrives", async () => {
  const started = performance.now();
  const total = await drain(paced(chunks(8, 128 * 1024), { maxBytesPerSecond: 2 * 1024 * 1024 }));
  const elapsed = performance.now() - started;
  assert.equal(total, 1024 * 1024);
  // The last chunk is due at 0.5 s; a slow machine only makes it later.
  assert.ok(elapsed >= 450, `took ${elapsed.toFixed(0)} ms`);
});

Deno.test("paced: an abort stops the read with the signal's reason, even while it waits", async () => {
  const controller = new AbortController();
  const reason = new Error("stopping");
  const reading = drain(
    paced(chunks(1000, 64 * 1024), { maxBytesPerSecond: 64 * 1024, signal: controller.signal }),
  );
  setTimeout(() => controller.abort(reason), 50);
  await assert.rejects(reading, (error) => error === reason);
});
