/**
 * Finds whole zstd frames in a byte stream by reading frame and block headers (RFC 8878),
 * without decompressing. Deno's zstd decoder stops after the first frame of a multi-frame
 * stream, and whole frames can be decompressed in parallel.
 *
 * @module
 */
import { ByteQueue } from "../io/byte_queue.ts";

const ZSTD_MAGIC = 0xfd2fb528;

/** Thrown when the payload is not a zstd stream Packrat can read. */
export class ZstdFormatError extends Error {}

export class FrameScanner {
  readonly #queue = new ByteQueue();
  /** Offset of the next unread block header of the first frame, once its header is parsed. */
  #blockOffset = -1;
  #checksumSize = 0;
  #frameLength = -1;

  constructor(readonly maxFrame: number) {}

  /** Bytes received but not yet taken. */
  get buffered(): number {
    return this.#queue.length;
  }

  push(bytes: Uint8Array): void {
    this.#queue.push(bytes);
  }

  /**
   * The length of the first frame once it is complete in the buffer, else undefined.
   * Skippable frames are dropped on the way.
   */
  nextFrame(): number | undefined {
    for (;;) {
      if (this.#frameLength >= 0) {
        return this.#queue.length >= this.#frameLength ? this.#frameLength : undefined;
      }
      if (this.#blockOffset < 0) {
        const header = this.#readFrameHeader();
        if (header === "incomplete") return undefined;
        if (header === "skipped") continue;
      }
      if (!this.#readBlocks()) return undefined;
    }
  }

  /** Copies the first `length` bytes (a frame) into `target` and drops them. */
  takeInto(target: Uint8Array, length: number): void {
    target.set(this.#queue.take(length));
    this.#blockOffset = -1;
    this.#frameLength = -1;
  }

  #u32(at: number): number {
    const q = this.#queue;
    return (q.at(at) | (q.at(at + 1) << 8) | (q.at(at + 2) << 16) | (q.at(at + 3) << 24)) >>> 0;
  }

  /** Parses the frame header, or drops a whole skippable frame. */
  #readFrameHeader(): "parsed" | "skipped" | "incomplete" {
    const q = this.#queue;
    if (q.length < 8) return "incomplete";
    const magic = this.#u32(0);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      const size = 8 + this.#u32(4);
      if (q.length < size) return "incomplete";
      q.take(size);
      return "skipped";
    }
    if (magic !== ZSTD_MAGIC) throw new ZstdFormatError("not a zstd frame");
    const descriptor = q.at(4);
    const singleSegment = (descriptor >> 5) & 1;
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3];
    this.#checksumSize = (descriptor >> 2) & 1 ? 4 : 0;
    this.#blockOffset = 5 + (singleSegment ? 0 : 1) + dictionaryBytes + contentSizeBytes;
    return "parsed";
  }

  /** Walks block headers; returns false while more bytes are needed. */
  #readBlocks(): boolean {
    const q = this.#queue;
    while (q.length >= this.#blockOffset + 3) {
      const at = this.#blockOffset;
      const header = q.at(at) | (q.at(at + 1) << 8) | (q.at(at + 2) << 16);
      const type = (header >> 1) & 3;
      if (type === 3) throw new ZstdFormatError("reserved zstd block type");
      this.#blockOffset += 3 + (type === 1 ? 1 : header >>> 3);
      if (this.#blockOffset + this.#checksumSize > this.maxFrame) {
        throw new ZstdFormatError("zstd frame larger than Packrat writes");
      }
      if (header & 1) {
        this.#frameLength = this.#blockOffset + this.#checksumSize;
        return true;
      }
    }
    return false;
  }
}
