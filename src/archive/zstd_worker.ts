/**
 * A Worker that compresses tar segments into independent zstd frames, and decompresses frames.
 *
 * node:zlib's zstd blocks its thread and cannot use zstd's own threads, so parallelism comes
 * from several of these workers. Both directions drive a long-lived zlib handle's `writeSync`
 * (the call Node's own stream code makes) into a caller-supplied output buffer, so nothing is
 * allocated per segment: one-shot `zstdCompressSync` makes a fresh context and output per
 * call, and that garbage alone cost ~60 MB of RSS per worker. Both buffers travel back to the
 * caller for reuse.
 *
 * @module
 */
import os from "node:os";
import zlib from "node:zlib";

/** A pool made for background work (a scheduled verify) names its workers this way. */
export const LOW_PRIORITY_NAME = "zstd-low-priority";

export interface ZstdRequest {
  id: number;
  op: "compress" | "decompress";
  input: ArrayBuffer;
  length: number;
  output: ArrayBuffer;
  /** Compression level (compress only). */
  level: number;
}

export type ZstdResponse =
  | { id: number; ok: true; input: ArrayBuffer; output: ArrayBuffer; outputLength: number }
  | { id: number; ok: false; message: string; input: ArrayBuffer; output: ArrayBuffer };

/** The parts of a node:zlib stream object this worker drives directly. */
interface ZlibStream {
  _handle: {
    writeSync(
      flush: number,
      input: Uint8Array,
      inOffset: number,
      inLength: number,
      output: Uint8Array,
      outOffset: number,
      outLength: number,
    ): void;
  };
  /** [output bytes still free, input bytes not consumed] after each writeSync. */
  _writeState: Uint32Array;
}

const streams = new Map<string, ZlibStream>();

function stream(op: ZstdRequest["op"], level: number): ZlibStream {
  const key = `${op}:${level}`;
  let found = streams.get(key);
  if (!found) {
    found = (op === "compress"
      ? zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: level } })
      : zlib.createZstdDecompress()) as unknown as ZlibStream;
    streams.set(key, found);
  }
  return found;
}

/**
 * Runs one complete frame through the handle: compresses `input` into a frame, or decompresses
 * the frame in `input`. Returns the bytes written to `output`.
 */
function transform(request: ZstdRequest): number {
  const { _handle: handle, _writeState: state } = stream(request.op, request.level);
  const input = new Uint8Array(request.input, 0, request.length);
  const output = new Uint8Array(request.output);
  let inOffset = 0;
  let outOffset = 0;
  for (;;) {
    handle.writeSync(
      zlib.constants.ZSTD_e_end,
      input,
      inOffset,
      input.length - inOffset,
      output,
      outOffset,
      output.length - outOffset,
    );
    const [outFree, inLeft] = state;
    outOffset = output.length - outFree;
    inOffset = input.length - inLeft;
    // Spare output space after all input is consumed means the frame is complete.
    if (inLeft === 0 && outFree > 0) return outOffset;
    if (outFree === 0) throw new Error("a zstd frame does not fit its buffer");
  }
}

const scope = self as unknown as {
  name: string;
  onmessage: ((event: MessageEvent<ZstdRequest>) => void) | null;
  postMessage(message: ZstdResponse, transfer: Transferable[]): void;
};

// On Linux the nice value belongs to the thread: this lowers this worker alone, not the
// backups that other workers of the process compress at the same time.
if (scope.name === LOW_PRIORITY_NAME) {
  try {
    os.setPriority(19);
  } catch {
    // Only the speed of the work changes: not a reason to fail it.
  }
}

scope.onmessage = ({ data: request }) => {
  const { id, input, output } = request;
  try {
    const outputLength = transform(request);
    scope.postMessage({ id, ok: true, input, output, outputLength }, [input, output]);
  } catch (error) {
    // A failed frame can leave the context mid-frame: start the next job with a fresh one.
    streams.delete(`${request.op}:${request.level}`);
    scope.postMessage({ id, ok: false, message: String(error), input, output }, [input, output]);
  }
};
