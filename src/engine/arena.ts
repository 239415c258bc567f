/**
 * Reusable scratch buffers, keyed by name. Activations saved for the backward live here between forward and
 * backward; reusing them across steps keeps the training loop free of large allocations and GC pauses.
 */
export class Arena {
  private readonly f32Buffers = new Map<string, Float32Array>();
  private readonly i32Buffers = new Map<string, Int32Array>();

  /** A Float32Array view of `size` elements; contents are whatever the last user left (not zeroed). */
  f32(name: string, size: number): Float32Array {
    let buffer = this.f32Buffers.get(name);
    if (!buffer || buffer.length < size) {
      buffer = new Float32Array(Math.max(size, Math.ceil((buffer?.length ?? 0) * 1.25)));
      this.f32Buffers.set(name, buffer);
    }
    return buffer.subarray(0, size);
  }

  /** Like f32 but zero-filled. */
  zeros(name: string, size: number): Float32Array {
    const view = this.f32(name, size);
    view.fill(0);
    return view;
  }

  i32(name: string, size: number): Int32Array {
    let buffer = this.i32Buffers.get(name);
    if (!buffer || buffer.length < size) {
      buffer = new Int32Array(Math.max(size, Math.ceil((buffer?.length ?? 0) * 1.25)));
      this.i32Buffers.set(name, buffer);
    }
    return buffer.subarray(0, size);
  }

  /** Bytes held, for memory reports. */
  bytes(): number {
    let total = 0;
    for (const b of this.f32Buffers.values()) total += b.byteLength;
    for (const b of this.i32Buffers.values()) total += b.byteLength;
    return total;
  }

  clear(): void {
    this.f32Buffers.clear();
    this.i32Buffers.clear();
  }
}
