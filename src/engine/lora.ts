/**
 * LoRA (Hu et al. 2021) as PEFT implements it: y = W·x + (alpha/r)·B·A·dropout(x), A [r, in] initialised
 * kaiming-uniform(a=√5) (i.e. U(±1/√in)), B [out, r] zero, so a fresh adapter leaves the model unchanged.
 * mlx-examples' LoRALinear is the model for the paired forward/backward below.
 */
import { native } from "../native/index.js";
import type { Arena } from "./arena.js";
import { type ModelConfig, type Projection, projectionShape } from "./config.js";
import { type LoraAdapter, type LoraConfig, type LoraPair, MAX_LORA_RANK } from "./lora-types.js";
import { assertFitsInMemory } from "./memory.js";
import type { Rng } from "./random.js";
import type { LayerWeights, ModelWeights } from "./weights.js";

export type { LoraAdapter, LoraConfig, LoraPair } from "./lora-types.js";

export function loraScale(config: LoraConfig): number {
  return config.alpha / config.rank;
}

export function validateLoraConfig(config: LoraConfig): void {
  if (!Number.isInteger(config.rank) || config.rank <= 0 || config.rank > MAX_LORA_RANK)
    throw new Error(`LoRA rank must be an integer in [1, ${MAX_LORA_RANK}], got ${config.rank}`);
  if (!(config.alpha > 0)) throw new Error(`LoRA alpha must be > 0, got ${config.alpha}`);
  if (!(config.dropout >= 0 && config.dropout < 1))
    throw new Error(`LoRA dropout must be in [0, 1), got ${config.dropout}`);
  if (config.targets.length === 0) throw new Error("LoRA needs at least one target projection");
}

/** A fresh adapter (PEFT init). */
export function createLoraAdapter(model: ModelConfig, config: LoraConfig, rng: Rng): LoraAdapter {
  validateLoraConfig(config);
  const perLayer = config.targets.reduce((sum, target) => {
    const [outDim, inDim] = projectionShape(model, target);
    return sum + config.rank * (inDim + outDim);
  }, 0);
  assertFitsInMemory(
    model.numLayers * perLayer * Float32Array.BYTES_PER_ELEMENT,
    `a rank-${config.rank} LoRA adapter on ${config.targets.join(",")}`,
    "lower the rank",
  );
  const layers: LoraAdapter["layers"] = [];
  for (let l = 0; l < model.numLayers; l++) {
    const layer: Partial<Record<Projection, LoraPair>> = {};
    for (const target of config.targets) {
      const [outDim, inDim] = projectionShape(model, target);
      const a = rng.fillUniform(new Float32Array(config.rank * inDim), 1 / Math.sqrt(inDim));
      layer[target] = { a, b: new Float32Array(outDim * config.rank) };
    }
    layers.push(layer);
  }
  return { config: { ...config, targets: [...config.targets] }, layers };
}

/** An all-zero adapter with the same shapes: used for gradients and optimizer moments. */
export function zerosLike(adapter: LoraAdapter): LoraAdapter {
  return {
    config: adapter.config,
    layers: adapter.layers.map((layer) => {
      const copy: Partial<Record<Projection, LoraPair>> = {};
      for (const [name, pair] of Object.entries(layer) as [Projection, LoraPair][])
        copy[name] = { a: new Float32Array(pair.a.length), b: new Float32Array(pair.b.length) };
      return copy;
    }),
  };
}

/** Every tensor of an adapter, in a stable order (for optimizers and norms). */
export function adapterTensors(adapter: LoraAdapter): Float32Array[] {
  const tensors: Float32Array[] = [];
  for (const layer of adapter.layers)
    for (const name of adapter.config.targets) {
      const pair = layer[name];
      if (pair) tensors.push(pair.a, pair.b);
    }
  return tensors;
}

export const PROJECTION_FIELD: Record<Projection, keyof LayerWeights> = {
  q_proj: "qProj",
  k_proj: "kProj",
  v_proj: "vProj",
  o_proj: "oProj",
  gate_proj: "gateProj",
  up_proj: "upProj",
  down_proj: "downProj",
};

/**
 * W += sign·(alpha/r)·B·A for every wrapped projection (sign −1 undoes a merge). Mutates `weights` in place;
 * callers that must keep the base intact pass a copy.
 */
export function mergeAdapter(config: ModelConfig, weights: ModelWeights, adapter: LoraAdapter, sign: 1 | -1 = 1): void {
  const scale = sign * loraScale(adapter.config);
  const rank = adapter.config.rank;
  adapter.layers.forEach((layer, l) => {
    for (const [name, pair] of Object.entries(layer) as [Projection, LoraPair][]) {
      const [outDim, inDim] = projectionShape(config, name);
      const weight = weights.layers[l][PROJECTION_FIELD[name]] as Float32Array;
      native.sgemm(false, false, outDim, inDim, rank, scale, pair.b, rank, pair.a, inDim, 1, weight, inDim);
    }
  });
}

/** What one LoRA forward keeps for its backward. */
export interface LoraSaved {
  input: Float32Array; // dropout(x), or x itself without dropout
  mask: Float32Array | null;
  hidden: Float32Array; // input·Aᵀ [rows, r]
}

/** out += scale·(dropout(x)·Aᵀ)·Bᵀ. */
export function loraForward(
  arena: Arena,
  key: string,
  pair: LoraPair,
  config: LoraConfig,
  x: Float32Array,
  out: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
  dropoutSeed: number | null,
): LoraSaved {
  const rank = config.rank;
  let input = x;
  let mask: Float32Array | null = null;
  if (dropoutSeed !== null && config.dropout > 0) {
    input = arena.f32(`${key}.drop`, rows * inDim);
    mask = arena.f32(`${key}.mask`, rows * inDim);
    native.dropoutForward(input, mask, x.subarray(0, rows * inDim), config.dropout, dropoutSeed);
  }
  const hidden = arena.f32(`${key}.h`, rows * rank);
  native.sgemm(false, true, rows, rank, inDim, 1, input, inDim, pair.a, inDim, 0, hidden, rank);
  native.sgemm(false, true, rows, outDim, rank, loraScale(config), hidden, rank, pair.b, rank, 1, out, outDim);
  return { input, mask, hidden };
}

/** Accumulates dA, dB and adds the input gradient into dx. */
export function loraBackward(
  arena: Arena,
  key: string,
  pair: LoraPair,
  grad: LoraPair,
  config: LoraConfig,
  saved: LoraSaved,
  dout: Float32Array,
  dx: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  const rank = config.rank;
  const scale = loraScale(config);
  native.sgemm(true, false, outDim, rank, rows, scale, dout, outDim, saved.hidden, rank, 1, grad.b, rank);
  const dHidden = arena.f32(`${key}.dh`, rows * rank);
  native.sgemm(false, false, rows, rank, outDim, scale, dout, outDim, pair.b, rank, 0, dHidden, rank);
  native.sgemm(true, false, rank, inDim, rows, 1, dHidden, rank, saved.input, inDim, 1, grad.a, inDim);
  if (saved.mask) {
    const dInput = arena.f32(`${key}.dx`, rows * inDim);
    native.sgemm(false, false, rows, inDim, rank, 1, dHidden, rank, pair.a, inDim, 0, dInput, inDim);
    native.vecMul(dInput, saved.mask);
    native.vecAdd(dx.subarray(0, rows * inDim), dInput);
  } else {
    native.sgemm(false, false, rows, inDim, rank, 1, dHidden, rank, pair.a, inDim, 1, dx, inDim);
  }
}
