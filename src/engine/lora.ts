/**
 * LoRA (Hu et al. 2021) as PEFT implements it: y = W·x + (alpha/r)·B·A·dropout(x), A [r, in] initialised
 * kaiming-uniform(a=√5) (i.e. U(±1/√in)), B [out, r] zero, so a fresh adapter leaves the model unchanged.
 * mlx-examples' LoRALinear is the model for the paired forward/backward below.
 */
import { native } from "../native/index.js";
import type { Arena } from "./arena.js";
import { type ModelConfig, type Projection, projectionShape } from "./config.js";
import { type LoraAdapter, type LoraConfig, type LoraPair, type LoraRoute, MAX_LORA_RANK } from "./lora-types.js";
import { assertFitsInMemory } from "./memory.js";
import type { Rng } from "./random.js";
import type { LayerWeights, ModelWeights } from "./weights.js";

export type { LoraAdapter, LoraConfig, LoraPair, LoraRoute } from "./lora-types.js";

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

/** Parameters (A and B of every target in every layer) of an adapter with this config. */
export function loraParameterCount(model: ModelConfig, config: LoraConfig): number {
  const perLayer = config.targets.reduce((sum, target) => {
    const [outDim, inDim] = projectionShape(model, target);
    return sum + config.rank * (inDim + outDim);
  }, 0);
  return model.numLayers * perLayer;
}

/** A fresh adapter (PEFT init). */
export function createLoraAdapter(model: ModelConfig, config: LoraConfig, rng: Rng): LoraAdapter {
  validateLoraConfig(config);
  assertFitsInMemory(
    loraParameterCount(model, config) * Float32Array.BYTES_PER_ELEMENT,
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

/** What one LoRA forward keeps for its backward: the segment table and the inputs the kernel saw. */
export interface LoraSaved {
  segments: Int32Array;
  scales: Float32Array;
  as: Float32Array[];
  bs: Float32Array[];
  /** Gradient accumulators per segment (null: that adapter is not trained in this pass). */
  grads: (LoraPair | null)[];
  /** Per segment: the backward writes its gradients instead of adding to them (LoraRoute.gradOverwrite). */
  overwrite: boolean[];
  input: Float32Array; // x, with each dropout segment's rows replaced by dropout(x)
  /** Dropout masks on the rows of segments that use dropout (masked[i]); null when none does. */
  mask: Float32Array | null;
  masked: boolean[];
  hidden: Float32Array; // per segment input·Aᵀ [rows, r], end to end
}

/** One adapter's projection on its rows of a pass; `dropoutSeed` is this projection's (null: no dropout). */
export interface LoraSegmentInput {
  route: LoraRoute;
  pair: LoraPair;
  grad: LoraPair | null;
  dropoutSeed: number | null;
}

/** out += scale·(dropout(x)·Aᵀ)·Bᵀ on every segment's rows, in one native call for all adapters. */
export function loraForward(
  arena: Arena,
  key: string,
  parts: LoraSegmentInput[],
  x: Float32Array,
  out: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
): LoraSaved {
  const n = parts.length;
  const segments = new Int32Array(3 * n);
  const scales = new Float32Array(n);
  let hiddenSize = 0;
  parts.forEach(({ route, pair }, i) => {
    const rank = route.adapter.config.rank;
    segments[3 * i] = route.start;
    segments[3 * i + 1] = route.rows;
    segments[3 * i + 2] = rank;
    scales[i] = loraScale(route.adapter.config);
    if (pair.a.length < rank * inDim) throw new Error(`${key}: LoRA A is smaller than rank × in`);
    hiddenSize += route.rows * rank;
  });
  const masked = parts.map((part) => part.dropoutSeed !== null && part.route.adapter.config.dropout > 0);
  let input = x.subarray(0, rows * inDim);
  let mask: Float32Array | null = null;
  if (masked.some(Boolean)) {
    input = arena.f32(`${key}.drop`, rows * inDim);
    input.set(x.subarray(0, rows * inDim));
    mask = arena.f32(`${key}.mask`, rows * inDim);
    parts.forEach(({ route, dropoutSeed }, i) => {
      if (!masked[i]) return;
      const span = [route.start * inDim, (route.start + route.rows) * inDim] as const;
      native.dropoutForward(
        input.subarray(...span),
        mask!.subarray(...span),
        x.subarray(...span),
        route.adapter.config.dropout,
        dropoutSeed!,
      );
    });
  }
  const hidden = arena.f32(`${key}.h`, hiddenSize);
  const as = parts.map((part) => part.pair.a);
  const bs = parts.map((part) => part.pair.b);
  native.loraForwardSegments(out.subarray(0, rows * outDim), input, hidden, as, bs, segments, scales, inDim, outDim);
  const overwrite = parts.map((part) => part.route.gradOverwrite === true);
  return { segments, scales, as, bs, grads: parts.map((part) => part.grad), overwrite, input, mask, masked, hidden };
}

/** Accumulates every trained segment's dA, dB and adds its input gradient into dx. */
export function loraBackward(
  arena: Arena,
  key: string,
  saved: LoraSaved,
  dout: Float32Array,
  dx: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  const trained = saved.grads.flatMap((grad, i) => (grad ? [i] : []));
  if (trained.length === 0) return;
  const pick = <T>(list: T[]) => trained.map((i) => list[i]);
  const segments = new Int32Array(trained.flatMap((i) => [...saved.segments.subarray(3 * i, 3 * i + 3)]));
  const hiddenOffsets: number[] = [];
  let offset = 0;
  for (let i = 0; i < saved.grads.length; i++) {
    hiddenOffsets.push(offset);
    offset += saved.segments[3 * i + 1] * saved.segments[3 * i + 2];
  }
  // the kernel lays hidden blocks end to end: a subset of segments needs its own contiguous copy
  const hidden =
    trained.length === saved.grads.length ? saved.hidden : gatherHidden(arena, key, saved, trained, hiddenOffsets);
  const dhidden = arena.f32(`${key}.dh`, hidden.length);
  const grads = pick(saved.grads) as LoraPair[];
  const args = [
    pick(saved.as),
    pick(saved.bs),
    grads.map((g) => g.a),
    grads.map((g) => g.b),
    segments,
    Float32Array.from(pick([...saved.scales])),
    inDim,
    outDim,
    Int32Array.from(trained, (i) => (saved.overwrite[i] ? 1 : 0)),
  ] as const;
  const input = saved.input;
  if (!saved.mask) {
    native.loraBackwardSegments(dx.subarray(0, rows * inDim), true, dout, input, hidden, dhidden, ...args);
    return;
  }
  const dInput = arena.f32(`${key}.dx`, rows * inDim);
  native.loraBackwardSegments(dInput, false, dout, input, hidden, dhidden, ...args);
  for (const i of trained) {
    const span = [saved.segments[3 * i] * inDim, (saved.segments[3 * i] + saved.segments[3 * i + 1]) * inDim] as const;
    const part = dInput.subarray(...span);
    if (saved.masked[i]) native.vecMul(part, saved.mask.subarray(...span));
    native.vecAdd(dx.subarray(...span), part);
  }
}

function gatherHidden(arena: Arena, key: string, saved: LoraSaved, trained: number[], offsets: number[]): Float32Array {
  const sizes = trained.map((i) => saved.segments[3 * i + 1] * saved.segments[3 * i + 2]);
  const hidden = arena.f32(
    `${key}.hsub`,
    sizes.reduce((a, b) => a + b, 0),
  );
  let at = 0;
  trained.forEach((i, k) => {
    hidden.set(saved.hidden.subarray(offsets[i], offsets[i] + sizes[k]), at);
    at += sizes[k];
  });
  return hidden;
}
