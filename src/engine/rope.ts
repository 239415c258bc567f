/**
 * Rotary position embedding frequencies and cos/sin tables, following transformers'
 * `modeling_rope_utils.py` (`_compute_default_rope_parameters`, `_compute_linear_scaling_rope_parameters`,
 * `_compute_llama3_parameters`) and `LlamaRotaryEmbedding.forward` (angles = position · inv_freq in float32,
 * then cos/sin). Layout is HF's rotate-half: dimension i pairs with i + headDim/2 (applied in native rope_apply).
 */
import type { ModelConfig } from "./config.js";

export function inverseFrequencies(config: ModelConfig): Float32Array {
  const half = config.headDim / 2;
  const invFreq = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    // torch: 1 / base ** (arange(0, dim, 2).float() / dim), all in float32
    const exponent = Math.fround((2 * i) / config.headDim);
    invFreq[i] = Math.fround(1 / Math.fround(config.ropeTheta ** exponent));
  }
  const scaling = config.ropeScaling;
  if (!scaling) return invFreq;
  if (scaling.type === "linear") {
    for (let i = 0; i < half; i++) invFreq[i] = Math.fround(invFreq[i] / scaling.factor);
    return invFreq;
  }
  // llama3: long wavelengths divided by `factor`, short ones kept, the band between smoothly interpolated
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldContext } = scaling;
  const lowFreqWavelen = oldContext / lowFreqFactor;
  const highFreqWavelen = oldContext / highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelen = (2 * Math.PI) / invFreq[i];
    let scaled = wavelen > lowFreqWavelen ? invFreq[i] / factor : invFreq[i];
    const isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
    if (isMedium) {
      const smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      scaled = ((1 - smooth) * scaled) / factor + smooth * scaled;
    }
    invFreq[i] = Math.fround(scaled);
  }
  return invFreq;
}

/** cos/sin tables [positions, headDim/2], grown on demand. */
export class RopeTables {
  private readonly invFreq: Float32Array;
  cos = new Float32Array(0);
  sin = new Float32Array(0);
  positions = 0;

  constructor(config: ModelConfig) {
    this.invFreq = inverseFrequencies(config);
  }

  /** Makes sure positions 0..count-1 are in the tables. */
  ensure(count: number): void {
    if (count <= this.positions) return;
    const capacity = Math.max(count, this.positions * 2, 256);
    const half = this.invFreq.length;
    const cos = new Float32Array(capacity * half);
    const sin = new Float32Array(capacity * half);
    for (let p = 0; p < capacity; p++) {
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(p * this.invFreq[i]);
        cos[p * half + i] = Math.cos(angle);
        sin[p * half + i] = Math.sin(angle);
      }
    }
    this.cos = cos;
    this.sin = sin;
    this.positions = capacity;
  }
}
