/** A FIFO of byte pieces: append incoming chunks, take exact-length slices out. @module */

export class ByteQueue {
  #pieces: Uint8Array[] = [];
  #head = 0; // bytes already consumed from #pieces[0]
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#pieces.push(bytes);
    this.#length += bytes.length;
  }

  /** Copies what is queued into memory of its own, so the pushed buffers can be reused. */
  compact(): void {
    if (this.#length === 0) {
      this.#pieces = [];
      this.#head = 0;
      return;
    }
    const own = this.#copy(this.#length, false);
    this.#pieces = [own];
    this.#head = 0;
  }

  /** The byte at `index` from the front, without consuming. */
  at(index: number): number {
    let i = index + this.#head;
    for (const piece of this.#pieces) {
      if (i < piece.length) return piece[i];
      i -= piece.length;
    }
    throw new RangeError("index beyond queue");
  }

  /** Copies the first `n` bytes without consuming them. */
  peek(n: number): Uint8Array {
    return this.#copy(n, false);
  }

  /**
   * Removes and returns the first `n` bytes. Returns a view (no copy) when they lie in one
   * piece, so callers must not keep it past the next push if they mutate the source.
   */
  take(n: number): Uint8Array {
    return this.#copy(n, true);
  }

  #copy(n: number, consume: boolean): Uint8Array {
    if (n > this.#length) throw new RangeError("not enough bytes queued");
    const first = this.#pieces[0];
    if (first && first.length - this.#head >= n) {
      const view = first.subarray(this.#head, this.#head + n);
      if (consume) this.#advance(n);
      return consume ? view : view.slice();
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let head = this.#head;
    for (const piece of this.#pieces) {
      const part = piece.subarray(head, Math.min(piece.length, head + n - filled));
      out.set(part, filled);
      filled += part.length;
      head = 0;
      if (filled === n) break;
    }
    if (consume) this.#advance(n);
    return out;
  }

  #advance(n: number): void {
    this.#length -= n;
    while (n > 0) {
      const available = this.#pieces[0].length - this.#head;
      if (n < available) {
        this.#head += n;
        return;
      }
      n -= available;
      this.#pieces.shift();
      this.#head = 0;
    }
  }
}
