/** File helpers shared by the pipeline stages. @module */

/** Writes all of `bytes`; `FsFile.write` may write less than asked. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/** Removes a file or tree, ignoring one that is already gone. */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Human-readable byte count, e.g. `1.4 GB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/**
 * Replaces `path` with `text` so that a reader sees the old content or the new, never a part:
 * a hidden temp file beside it (no `.prom`/`.json` ending, so collectors skip it), synced, then
 * renamed over it. The temp file is removed if anything fails.
 */
export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
  const temp = `${dir}/.${path.slice(slash + 1)}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode });
    try {
      await writeAll(file, new TextEncoder().encode(text));
      // The mode given to open is filtered by the umask; readers may be another user.
      await Deno.chmod(temp, mode);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await removeIfExists(temp).catch(() => {});
    throw error;
  }
  await syncDirectory(dir);
}

/**
 * Makes a rename in `dir` durable; best effort, as some filesystems (e.g. network shares)
 * cannot sync a directory — the rename itself is done either way.
 */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    using handle = await Deno.open(dir);
    await handle.sync();
  } catch {
    // Only its durability across a power loss is less certain.
  }
}

/** `stream`, telling `onBytes` how many bytes have passed so far, chunk by chunk. */
export function counted(
  stream: ReadableStream<Uint8Array>,
  onBytes: ((total: number) => void) | undefined,
): ReadableStream<Uint8Array> {
  if (!onBytes) return stream;
  let total = 0;
  return stream.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        total += chunk.length;
        onBytes(total);
        controller.enqueue(chunk);
      },
    }),
  );
}
