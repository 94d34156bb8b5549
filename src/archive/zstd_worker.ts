/**
 * A Worker that compresses tar segments into independent zstd frames and decompresses frames.
 *
 * node:zlib's zstd blocks its thread and cannot use zstd's own threads, so parallelism comes
 * from several of these workers. Input buffers are transferred back to the caller for reuse.
 *
 * @module
 */
import zlib from "node:zlib";

export type ZstdRequest =
  | { id: number; op: "compress"; buffer: ArrayBuffer; length: number; level: number }
  | { id: number; op: "decompress"; frame: Uint8Array };

export type ZstdResponse =
  | { id: number; ok: true; output: Uint8Array; buffer?: ArrayBuffer }
  | { id: number; ok: false; message: string; buffer?: ArrayBuffer };

/** A transferable copy-free view when the result owns its whole buffer. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<ZstdRequest>) => void) | null;
  postMessage(message: ZstdResponse, transfer: Transferable[]): void;
};

scope.onmessage = ({ data: request }) => {
  const buffer = request.op === "compress" ? request.buffer : undefined;
  try {
    const output = ownBuffer(
      request.op === "compress"
        ? zlib.zstdCompressSync(new Uint8Array(request.buffer, 0, request.length), {
          params: { [zlib.constants.ZSTD_c_compressionLevel]: request.level },
        })
        : zlib.zstdDecompressSync(request.frame),
    );
    const transfer: Transferable[] = [output.buffer as ArrayBuffer];
    if (buffer) transfer.push(buffer);
    scope.postMessage({ id: request.id, ok: true, output, buffer }, transfer);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    scope.postMessage({ id: request.id, ok: false, message, buffer }, buffer ? [buffer] : []);
  }
};
