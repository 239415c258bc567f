import type { ModelConfig } from "./config.js";
import { assertFitsInMemory } from "./memory.js";

/**
 * Keys and values of past tokens for incremental decoding: per layer one buffer of `slots × capacity` rows of
 * [kvHeads·headDim]. Slot s holds one sequence; its token at position p lives in row s·capacity + p.
 */
export class KvCache {
  readonly k: Float32Array[];
  readonly v: Float32Array[];
  readonly kvDim: number;

  constructor(
    config: ModelConfig,
    readonly slots: number,
    readonly capacity: number,
  ) {
    this.kvDim = config.numKvHeads * config.headDim;
    const size = slots * capacity * this.kvDim;
    // Checked before allocating: a huge --max-new-tokens or --n would otherwise end in an out-of-memory abort.
    assertFitsInMemory(
      2 * config.numLayers * size * Float32Array.BYTES_PER_ELEMENT,
      `the KV cache for ${slots} sequences of ${capacity} positions`,
      "generate fewer tokens or sequences at once",
    );
    this.k = Array.from({ length: config.numLayers }, () => new Float32Array(size));
    this.v = Array.from({ length: config.numLayers }, () => new Float32Array(size));
  }

  /** Copies slot `from`'s first `length` positions into slot `to` (n samples sharing one prompt prefill). */
  copySlot(from: number, to: number, length: number): void {
    const span = length * this.kvDim;
    const src = from * this.capacity * this.kvDim;
    const dst = to * this.capacity * this.kvDim;
    for (let l = 0; l < this.k.length; l++) {
      this.k[l].copyWithin(dst, src, src + span);
      this.v[l].copyWithin(dst, src, src + span);
    }
  }

  bytes(): number {
    return 2 * this.k.length * this.k[0].byteLength;
  }
}
