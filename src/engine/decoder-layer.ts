/**
 * One Llama/Qwen2 decoder layer (transformers' LlamaDecoderLayer / Qwen2DecoderLayer), forward and backward:
 *   h   = x + o_proj(attention(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))),  n1 = RMSNorm(x)
 *   out = h + down_proj(silu(gate_proj(n2)) · up_proj(n2)),                         n2 = RMSNorm(h)
 * Conventions (checked against PyTorch in test/engine/pytorch-reference.test.ts): q/k/v viewed as
 * [tokens, heads, head_dim]; query head h reads kv head ⌊h / (heads/kv_heads)⌋ (repeat_kv); scale head_dim^-½;
 * RoPE applied after the projection biases.
 */
import { native } from "../native/index.js";
import type { Arena } from "./arena.js";
import type { ModelConfig, Projection } from "./config.js";
import { linearBackwardInput, linearBackwardWeight, linearForward } from "./linear.js";
import {
  type LoraAdapter,
  type LoraRoute,
  type LoraSaved,
  type LoraSegmentInput,
  loraBackward,
  loraForward,
  PROJECTION_FIELD,
} from "./lora.js";
import type { RopeTables } from "./rope.js";
import type { LayerWeights, ModelWeights } from "./weights.js";

/** Where attention keys come from for the tokens of one pass. */
export interface AttentionPlan {
  positions: Int32Array;
  keyBase: Int32Array;
  keyCount: Int32Array;
  /** Packed sequences (training and full forwards): tokens of sequence s are rows seqStart[s]..seqStart[s+1]-1. */
  seqStart: Int32Array | null;
  /** With a KV cache: the cache row of each token's new key/value; attention then reads the cache. */
  cache: { k: Float32Array; v: Float32Array; rowOf: Int32Array } | null;
}

export interface PassContext {
  config: ModelConfig;
  arena: Arena;
  rope: RopeTables;
  rows: number;
  plan: AttentionPlan;
  /** The adapters of this pass and the rows each serves (empty: the base model). */
  routes: LoraRoute[];
  /** Keep activations (per layer) for a backward. */
  save: boolean;
  /** LoRA intermediates kept by a saving forward for the backward, per layer. */
  loraSaved: Map<number, Map<Projection, LoraSaved>>;
}

export interface Gradients {
  /** The gradient of the model's own adapter (single-adapter passes; routes carry their own). */
  lora: LoraAdapter | null;
  full: ModelWeights | null;
}

/** The routes whose adapter wraps projection `name` of layer `l`, with this projection's dropout seed. */
function loraParts(ctx: PassContext, l: number, name: Projection): LoraSegmentInput[] {
  const parts: LoraSegmentInput[] = [];
  for (const route of ctx.routes) {
    const pair = route.adapter.layers[l]?.[name];
    if (!pair || route.rows === 0) continue;
    const seed = route.dropoutSeed === null ? null : route.dropoutSeed * 1009 + l * 7 + PROJECTION_SALT[name];
    parts.push({ route, pair, grad: route.grad?.layers[l]?.[name] ?? null, dropoutSeed: seed });
  }
  return parts;
}

/** Widths used throughout a layer: hidden, MLP, head, all query heads, all key/value heads. */
function layerDims(config: ModelConfig) {
  const hd = config.headDim;
  return {
    D: config.hiddenSize,
    F: config.intermediateSize,
    hd,
    qDim: config.numHeads * hd,
    kvDim: config.numKvHeads * hd,
  };
}

/** Runs layer `l` on x [rows, D]; returns the output buffer (x itself when not saving). */
export function layerForward(ctx: PassContext, l: number, weights: LayerWeights, x: Float32Array): Float32Array {
  const { config, arena, rows, plan } = ctx;
  const { D, F, hd, qDim, kvDim } = layerDims(config);
  const p = ctx.save ? `L${l}.` : "";
  const loraSaved = new Map<Projection, LoraSaved>();
  const project = (
    name: Projection,
    input: Float32Array,
    w: Float32Array,
    b: Float32Array | null,
    inDim: number,
    outDim: number,
  ) => {
    const out = arena.f32(p + name, rows * outDim);
    linearForward(out, input, w, b, rows, inDim, outDim);
    const parts = loraParts(ctx, l, name);
    if (parts.length > 0)
      loraSaved.set(name, loraForward(arena, `${p}${name}`, parts, input, out, rows, inDim, outDim));
    return out;
  };

  const rstd1 = arena.f32(`${p}rstd1`, rows);
  const n1 = arena.f32(`${p}n1`, rows * D);
  native.rmsnormForward(n1, rstd1, x, weights.inputNorm, rows, D, config.rmsNormEps);
  const q = project("q_proj", n1, weights.qProj, weights.qBias, D, qDim);
  const k = project("k_proj", n1, weights.kProj, weights.kBias, D, kvDim);
  const v = project("v_proj", n1, weights.vProj, weights.vBias, D, kvDim);
  native.ropeApply(q, plan.positions, ctx.rope.cos, ctx.rope.sin, rows, config.numHeads, hd, 1);
  native.ropeApply(k, plan.positions, ctx.rope.cos, ctx.rope.sin, rows, config.numKvHeads, hd, 1);
  let keys = k;
  let values = v;
  if (plan.cache) {
    const { cache } = plan;
    for (let t = 0; t < rows; t++) {
      const row = plan.cache.rowOf[t] * kvDim;
      cache.k.set(k.subarray(t * kvDim, (t + 1) * kvDim), row);
      cache.v.set(v.subarray(t * kvDim, (t + 1) * kvDim), row);
    }
    keys = cache.k;
    values = cache.v;
  }
  const attn = arena.f32(`${p}attn`, rows * qDim);
  const lse = ctx.save ? arena.f32(`${p}lse`, rows * config.numHeads) : null;
  native.attentionForward(
    attn,
    lse,
    q,
    keys,
    values,
    plan.keyBase,
    plan.keyCount,
    rows,
    config.numHeads,
    config.numKvHeads,
    hd,
    hd ** -0.5,
  );
  const o = project("o_proj", attn, weights.oProj, weights.oBias, qDim, D);

  const h = ctx.save ? arena.f32(`${p}h`, rows * D) : x;
  if (h !== x) h.set(x.subarray(0, rows * D));
  native.vecAdd(h, o);
  const rstd2 = arena.f32(`${p}rstd2`, rows);
  const n2 = arena.f32(`${p}n2`, rows * D);
  native.rmsnormForward(n2, rstd2, h, weights.postAttentionNorm, rows, D, config.rmsNormEps);
  const gate = project("gate_proj", n2, weights.gateProj, null, D, F);
  const up = project("up_proj", n2, weights.upProj, null, D, F);
  const act = arena.f32(`${p}act`, rows * F);
  native.swigluForward(act, gate, up, rows * F);
  const down = project("down_proj", act, weights.downProj, null, F, D);
  const out = ctx.save ? arena.f32(`L${l + 1}.x`, rows * D) : h;
  if (out !== h) out.set(h);
  native.vecAdd(out, down);
  if (ctx.save) ctx.loraSaved.set(l, loraSaved);
  return out;
}

const PROJECTION_SALT: Record<Projection, number> = {
  q_proj: 1,
  k_proj: 2,
  v_proj: 3,
  o_proj: 4,
  gate_proj: 5,
  up_proj: 6,
  down_proj: 7,
};

/**
 * Backward of layer `l`. On entry dres holds ∂L/∂out; on exit ∂L/∂x (updated in place: the residual
 * connections pass the gradient straight through). Accumulates into `grads`.
 */
export function layerBackward(
  ctx: PassContext,
  l: number,
  weights: LayerWeights,
  x: Float32Array,
  dres: Float32Array,
  grads: Gradients,
): void {
  const { config, arena, rows, plan } = ctx;
  const { D, F, hd, qDim, kvDim } = layerDims(config);
  const p = `L${l}.`;
  const saved = (name: string, size: number) => arena.f32(p + name, size);
  const fullGrad = grads.full?.layers[l] ?? null;
  const loraSavedHere = ctx.loraSaved.get(l);

  /** dInput (+)= dOut·W for one projection, plus its weight and LoRA gradients. */
  const projectBack = (
    name: Projection,
    dOut: Float32Array,
    input: Float32Array,
    w: Float32Array,
    dInput: Float32Array,
    accumulate: boolean,
    inDim: number,
    outDim: number,
    biasGrad: Float32Array | null,
  ) => {
    linearBackwardInput(dInput, dOut, w, rows, inDim, outDim, accumulate);
    if (fullGrad)
      linearBackwardWeight(
        fullGrad[PROJECTION_FIELD[name]] as Float32Array,
        biasGrad,
        dOut,
        input,
        rows,
        inDim,
        outDim,
      );
    const s = loraSavedHere?.get(name);
    if (s) loraBackward(arena, `${p}${name}`, s, dOut, dInput, rows, inDim, outDim);
  };

  // MLP
  const gate = saved("gate_proj", rows * F);
  const up = saved("up_proj", rows * F);
  const act = saved("act", rows * F);
  const dAct = arena.f32("d.act", rows * F);
  projectBack("down_proj", dres, act, weights.downProj, dAct, false, F, D, null);
  const dGate = arena.f32("d.gate", rows * F);
  const dUp = arena.f32("d.up", rows * F);
  native.swigluBackward(dGate, dUp, dAct, gate, up, rows * F);
  const n2 = saved("n2", rows * D);
  const dN2 = arena.f32("d.n2", rows * D);
  projectBack("gate_proj", dGate, n2, weights.gateProj, dN2, false, D, F, null);
  projectBack("up_proj", dUp, n2, weights.upProj, dN2, true, D, F, null);
  native.rmsnormBackward(
    dres,
    fullGrad?.postAttentionNorm ?? null,
    dN2,
    saved("h", rows * D),
    weights.postAttentionNorm,
    saved("rstd2", rows),
    rows,
    D,
  );

  // attention
  const attn = saved("attn", rows * qDim);
  const dAttn = arena.f32("d.attn", rows * qDim);
  projectBack("o_proj", dres, attn, weights.oProj, dAttn, false, qDim, D, fullGrad?.oBias ?? null);
  const q = saved("q_proj", rows * qDim);
  const k = saved("k_proj", rows * kvDim);
  const v = saved("v_proj", rows * kvDim);
  const dq = arena.f32("d.q", rows * qDim);
  const dk = arena.f32("d.k", rows * kvDim);
  const dv = arena.f32("d.v", rows * kvDim);
  if (!plan.seqStart) throw new Error("layerBackward needs a packed batch (no KV cache)");
  native.attentionBackward(
    dq,
    dk,
    dv,
    dAttn,
    attn,
    saved("lse", rows * config.numHeads),
    q,
    k,
    v,
    plan.seqStart,
    plan.seqStart.length - 1,
    config.numHeads,
    config.numKvHeads,
    hd,
    hd ** -0.5,
  );
  native.ropeApply(dq, plan.positions, ctx.rope.cos, ctx.rope.sin, rows, config.numHeads, hd, -1);
  native.ropeApply(dk, plan.positions, ctx.rope.cos, ctx.rope.sin, rows, config.numKvHeads, hd, -1);
  const n1 = saved("n1", rows * D);
  const dN1 = arena.f32("d.n1", rows * D);
  projectBack("q_proj", dq, n1, weights.qProj, dN1, false, D, qDim, fullGrad?.qBias ?? null);
  projectBack("k_proj", dk, n1, weights.kProj, dN1, true, D, kvDim, fullGrad?.kBias ?? null);
  projectBack("v_proj", dv, n1, weights.vProj, dN1, true, D, kvDim, fullGrad?.vBias ?? null);
  native.rmsnormBackward(dres, fullGrad?.inputNorm ?? null, dN1, x, weights.inputNorm, saved("rstd1", rows), rows, D);
}
