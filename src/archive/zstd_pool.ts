/**
 * A small pool of zstd Workers. Jobs go to the least busy worker; results come back as
 * promises, so callers keep their own order.
 *
 * @module
 */
import { LOW_PRIORITY_NAME, type ZstdRequest, type ZstdResponse } from "./zstd_worker.ts";

/** Tar bytes per zstd frame: a backup compresses independent segments of this size. */
export const SEGMENT_SIZE = 2 * 1024 * 1024;
/** Room for a segment or its frame, whichever is larger (ZSTD_compressBound, rounded up). */
const BUFFER_SIZE = SEGMENT_SIZE + 64 * 1024;

/** An input/output buffer pair that travels to a worker and back for every job. */
export interface BufferPair {
  input: ArrayBuffer;
  output: ArrayBuffer;
}

export function newBufferPair(): BufferPair {
  return { input: new ArrayBuffer(BUFFER_SIZE), output: new ArrayBuffer(BUFFER_SIZE) };
}

type Pending = {
  resolve: (result: { input: ArrayBuffer; output: ArrayBuffer; outputLength: number }) => void;
  reject: (error: Error) => void;
};

export class ZstdPool {
  readonly #workers: { worker: Worker; busy: number }[] = [];
  readonly #pending = new Map<number, Pending & { slot: number }>();
  #nextId = 0;
  #broken?: Error;

  /**
   * `size` defaults to the number of CPUs, at least 1 and at most 4. `lowPriority` workers run
   * at nice 19, for work that should yield to everything else.
   */
  constructor(
    size = Math.min(4, Math.max(1, navigator.hardwareConcurrency || 1)),
    { lowPriority = false }: { lowPriority?: boolean } = {},
  ) {
    for (let slot = 0; slot < size; slot++) {
      const worker = new Worker(new URL("./zstd_worker.ts", import.meta.url).href, {
        type: "module",
        ...(lowPriority ? { name: LOW_PRIORITY_NAME } : {}),
      });
      worker.onmessage = (event: MessageEvent<ZstdResponse>) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        // A worker that died never answers again: fail everything now and refuse new jobs.
        this.#broken = new Error(`compression worker failed: ${event.message}`);
        this.#failAll(this.#broken);
      };
      this.#workers.push({ worker, busy: 0 });
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  /**
   * Compresses `input[0, length)` into one zstd frame, or decompresses the one frame there,
   * writing into `output`. Both buffers are transferred to a worker and come back with the
   * result, for reuse.
   */
  run(
    op: "compress" | "decompress",
    input: ArrayBuffer,
    length: number,
    output: ArrayBuffer,
    level = 0,
  ): Promise<{ input: ArrayBuffer; output: ArrayBuffer; outputLength: number }> {
    if (this.#broken) return Promise.reject(this.#broken);
    const slot = this.#workers.reduce((best, w, i, all) => w.busy < all[best].busy ? i : best, 0);
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, slot });
      this.#workers[slot].busy++;
      this.#workers[slot].worker.postMessage(
        { id, op, input, length, output, level } satisfies ZstdRequest,
        [input, output],
      );
    });
  }

  close(): void {
    for (const { worker } of this.#workers) worker.terminate();
    this.#broken = new Error("compression workers closed");
    this.#failAll(this.#broken);
  }

  #settle(response: ZstdResponse): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return;
    this.#pending.delete(response.id);
    this.#workers[pending.slot].busy--;
    if (response.ok) pending.resolve(response);
    else pending.reject(new Error(response.message));
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
