/**
 * A Worker that compresses tar segments into independent zstd frames and decompresses frames.
 *
 * node:zlib's zstd blocks its thread and cannot use zstd's own threads, so parallelism comes
 * from several of these workers. Compression writes into a caller-supplied output buffer
 * through the zlib handle's `writeSync` (the call Node's own stream code makes), so a backup
 * allocates nothing per segment: one-shot `zstdCompressSync` makes a fresh context and output
 * per call, and that garbage alone cost ~60 MB of RSS per worker. Both buffers travel back to
 * the caller for reuse.
 *
 * @module
 */
import zlib from "node:zlib";

export type ZstdRequest =
  | {
    id: number;
    op: "compress";
    input: ArrayBuffer;
    length: number;
    output: ArrayBuffer;
    level: number;
  }
  | { id: number; op: "decompress"; frame: Uint8Array };

export type ZstdResponse =
  | {
    id: number;
    ok: true;
    /** Compress: the input buffer, returned; decompress: the result. */
    input?: ArrayBuffer;
    output: ArrayBuffer;
    outputLength: number;
  }
  | { id: number; ok: false; message: string; input?: ArrayBuffer; output?: ArrayBuffer };

/** The parts of node:zlib's stream object this worker drives directly. */
interface ZlibHandle {
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

const compressors = new Map<number, ZlibHandle>();

function compressor(level: number): ZlibHandle {
  let handle = compressors.get(level);
  if (!handle) {
    handle = zlib.createZstdCompress({
      params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
    }) as unknown as ZlibHandle;
    compressors.set(level, handle);
  }
  return handle;
}

/** Compresses `input` as one complete frame into `output`; returns the frame's length. */
function compressInto(input: Uint8Array, output: Uint8Array, level: number): number {
  const { _handle: handle, _writeState: state } = compressor(level);
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
    // With ZSTD_e_end, spare output space after all input is consumed means the frame is done.
    if (inLeft === 0 && outFree > 0) return outOffset;
    if (outFree === 0) throw new Error("compressed segment larger than its output buffer");
  }
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<ZstdRequest>) => void) | null;
  postMessage(message: ZstdResponse, transfer: Transferable[]): void;
};

scope.onmessage = ({ data: request }) => {
  if (request.op === "compress") {
    const { id, input, output } = request;
    try {
      const outputLength = compressInto(
        new Uint8Array(input, 0, request.length),
        new Uint8Array(output),
        request.level,
      );
      scope.postMessage({ id, ok: true, input, output, outputLength }, [input, output]);
    } catch (error) {
      scope.postMessage({ id, ok: false, message: String(error), input, output }, [input, output]);
    }
    return;
  }
  try {
    const result = zlib.zstdDecompressSync(request.frame);
    const owned = result.byteOffset === 0 && result.byteLength === result.buffer.byteLength
      ? result
      : result.slice();
    const output = owned.buffer as ArrayBuffer;
    scope.postMessage({ id: request.id, ok: true, output, outputLength: owned.length }, [output]);
  } catch (error) {
    scope.postMessage({ id: request.id, ok: false, message: String(error) }, []);
  }
};
