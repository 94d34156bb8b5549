/**
 * Splits a zstd stream into whole frames by reading frame and block headers (RFC 8878), without
 * decompressing. Deno's zstd decoder stops after the first frame of a multi-frame stream, and
 * whole frames can be decompressed in parallel.
 *
 * @module
 */
import { ByteQueue } from "../io/byte_queue.ts";

const ZSTD_MAGIC = 0xfd2fb528;
/** Our frames hold ≤ 4 MiB of tar; anything far larger is not an archive we wrote. */
const MAX_FRAME = 64 * 1024 * 1024;

/** Thrown when the payload is not a zstd stream. */
export class ZstdFormatError extends Error {}

/** A stream of zstd bytes in, whole frames out (skippable frames dropped). */
export function zstdFrames(): TransformStream<Uint8Array, Uint8Array> {
  const queue = new ByteQueue();
  let scan: { end: number; skippable: boolean } | undefined;
  return new TransformStream({
    transform(bytes, out) {
      queue.push(bytes);
      for (;;) {
        scan = scanFrame(queue, scan);
        if (!scan || scan.end < 0 || queue.length < scan.end) return;
        const frame = queue.take(scan.end);
        if (!scan.skippable) out.enqueue(frame.slice());
        scan = undefined;
      }
    },
    flush() {
      if (queue.length > 0) throw new ZstdFormatError("the compressed payload ends mid-frame");
    },
  });
}

/**
 * Advances the scan of the first frame in `queue`. `end` is its total length once known, or
 * -(offset of the next unread block header) - 1 while blocks are still being read.
 */
function scanFrame(
  queue: ByteQueue,
  state: { end: number; skippable: boolean } | undefined,
): { end: number; skippable: boolean } | undefined {
  const u32 = (at: number) =>
    (queue.at(at) | (queue.at(at + 1) << 8) | (queue.at(at + 2) << 16) |
      (queue.at(at + 3) << 24)) >>>
    0;
  let offset: number;
  if (!state) {
    if (queue.length < 8) return undefined;
    const magic = u32(0);
    if ((magic & 0xfffffff0) === 0x184d2a50) return { end: 8 + u32(4), skippable: true };
    if (magic !== ZSTD_MAGIC) throw new ZstdFormatError("not a zstd frame");
    const fhd = queue.at(4);
    const singleSegment = (fhd >> 5) & 1;
    const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fhd >> 6];
    const didSize = [0, 1, 2, 4][fhd & 3];
    offset = 5 + (singleSegment ? 0 : 1) + didSize + fcsSize;
  } else {
    if (state.end >= 0) return state;
    offset = -state.end - 1;
  }
  const checksum = (queue.at(4) >> 2) & 1 ? 4 : 0;
  while (queue.length >= offset + 3) {
    const header = queue.at(offset) | (queue.at(offset + 1) << 8) | (queue.at(offset + 2) << 16);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new ZstdFormatError("reserved zstd block type");
    offset += 3 + (type === 1 ? 1 : size);
    if (offset > MAX_FRAME) throw new ZstdFormatError("zstd frame too large");
    if (last) return { end: offset + checksum, skippable: false };
  }
  return { end: -offset - 1, skippable: false };
}
