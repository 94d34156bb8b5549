/**
 * Cuts the tar byte stream into fixed-size segments, compresses them in parallel Workers as
 * independent zstd frames, and hands the frames on in order. Concatenated frames are one valid
 * zstd stream.
 *
 * Memory is bounded and steady: a fixed set of input/output buffer pairs travels between this
 * writer and the workers, so nothing is allocated per segment.
 *
 * @module
 */
import { handled } from "../io/heap.ts";
import { settleLater } from "../io/settle.ts";
import { type BufferPair, newBufferPair, SEGMENT_SIZE, type ZstdPool } from "./zstd_pool.ts";

export class CompressingWriter {
  readonly #pool: ZstdPool;
  readonly #level: number;
  readonly #output: (frame: Uint8Array) => Promise<void>;
  readonly #maxInFlight: number;
  readonly #free: BufferPair[] = [];
  readonly #inFlight: Promise<BufferPair & { outputLength: number }>[] = [];
  #slot: BufferPair;
  #segment: Uint8Array;
  #filled = 0;
  /** Uncompressed bytes written so far. */
  bytesIn = 0;

  constructor(pool: ZstdPool, level: number, output: (frame: Uint8Array) => Promise<void>) {
    this.#pool = pool;
    this.#level = level;
    this.#output = output;
    this.#maxInFlight = pool.size + 1;
    this.#slot = newBufferPair();
    this.#segment = new Uint8Array(this.#slot.input);
  }

  /** Copies `bytes` into the stream. */
  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(bytes.length - offset, SEGMENT_SIZE - this.#filled);
      this.#segment.set(bytes.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      if (this.#filled === SEGMENT_SIZE) await this.#dispatch();
    }
    this.bytesIn += bytes.length;
  }

  /**
   * Reads up to `length` bytes from `file` straight into the segment buffers, without an
   * intermediate copy. Returns how many bytes were read (fewer at end of file).
   */
  async readFrom(
    file: Deno.FsFile,
    length: number,
    signal?: AbortSignal,
    onSegment?: (bytesIn: number) => void,
  ): Promise<number> {
    let done = 0;
    while (done < length) {
      // A file of many gigabytes must not keep an interrupted run (and its containers) waiting.
      signal?.throwIfAborted();
      const room = Math.min(length - done, SEGMENT_SIZE - this.#filled);
      const n = file.readSync(this.#segment.subarray(this.#filled, this.#filled + room));
      if (n === null || n === 0) break;
      this.#filled += n;
      done += n;
      if (this.#filled === SEGMENT_SIZE) {
        await this.#dispatch();
        onSegment?.(this.bytesIn + done);
      }
    }
    this.bytesIn += done;
    return done;
  }

  /** Compresses what is left and waits until every frame has been handed on. */
  async close(): Promise<void> {
    if (this.#filled > 0) await this.#dispatch();
    while (this.#inFlight.length > 0) await this.#emitOldest();
  }

  async #dispatch(): Promise<void> {
    handled(this.#filled);
    const { input, output } = this.#slot;
    this.#inFlight.push(
      settleLater(this.#pool.run("compress", input, this.#filled, output, this.#level)),
    );
    this.#filled = 0;
    if (this.#inFlight.length >= this.#maxInFlight) await this.#emitOldest();
    this.#slot = this.#free.pop() ?? newBufferPair();
    this.#segment = new Uint8Array(this.#slot.input);
  }

  async #emitOldest(): Promise<void> {
    const done = await this.#inFlight.shift()!;
    await this.#output(new Uint8Array(done.output, 0, done.outputLength));
    this.#free.push({ input: done.input, output: done.output });
  }
}
