/**
 * A small pool of zstd Workers. Jobs go to the least busy worker; results come back as
 * promises, so callers keep their own order.
 *
 * @module
 */
import type { ZstdRequest, ZstdResponse } from "./zstd_worker.ts";

type Pending = {
  resolve: (response: ZstdResponse & { ok: true }) => void;
  reject: (error: Error) => void;
};

export class ZstdPool {
  readonly #workers: { worker: Worker; busy: number }[] = [];
  readonly #pending = new Map<number, Pending & { slot: number }>();
  #nextId = 0;

  /** `size` defaults to the number of CPUs, at least 1 and at most 4. */
  constructor(size = Math.min(4, Math.max(1, navigator.hardwareConcurrency || 1))) {
    for (let slot = 0; slot < size; slot++) {
      const worker = new Worker(new URL("./zstd_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<ZstdResponse>) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        this.#failAll(new Error(`compression worker failed: ${event.message}`));
      };
      this.#workers.push({ worker, busy: 0 });
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  /**
   * Compresses `input[0, length)` into one zstd frame written to `output`. Both buffers are
   * transferred to the worker and come back with the result.
   */
  async compress(
    input: ArrayBuffer,
    length: number,
    output: ArrayBuffer,
    level: number,
  ): Promise<{ input: ArrayBuffer; output: ArrayBuffer; outputLength: number }> {
    const result = await this.#run({ id: 0, op: "compress", input, length, output, level }, [
      input,
      output,
    ]);
    return { input: result.input!, output: result.output, outputLength: result.outputLength };
  }

  /** Decompresses exactly one zstd frame. */
  decompress(frame: Uint8Array): Promise<Uint8Array> {
    const transferable = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength
      ? frame
      : frame.slice();
    return this.#run({ id: 0, op: "decompress", frame: transferable }, [
      transferable.buffer as ArrayBuffer,
    ]).then((r) => new Uint8Array(r.output, 0, r.outputLength));
  }

  close(): void {
    for (const { worker } of this.#workers) worker.terminate();
    this.#failAll(new Error("compression workers closed"));
  }

  #run(request: ZstdRequest, transfer: Transferable[]): Promise<ZstdResponse & { ok: true }> {
    const slot = this.#workers.reduce((best, w, i, all) => w.busy < all[best].busy ? i : best, 0);
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, slot });
      this.#workers[slot].busy++;
      this.#workers[slot].worker.postMessage({ ...request, id }, transfer);
    });
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
