/**
 * The decoder model: embeddings → layers → final RMSNorm → LM head, with a training forward/backward over
 * packed batches and a cached forward for generation. HF semantics as in transformers' LlamaForCausalLM /
 * Qwen2ForCausalLM (logits = RMSNorm(h)·lm_headᵀ, lm_head = embed_tokens when tied).
 */
import { native } from "../native/index.js";
import { Arena } from "./arena.js";
import type { PackedBatch } from "./batch.js";
import { packSequences } from "./batch.js";
import { type ModelConfig, validateConfig } from "./config.js";
import { type Gradients, layerBackward, layerForward, type PassContext } from "./decoder-layer.js";
import type { KvCache } from "./kv-cache.js";
import { linearBackwardInput, linearForward } from "./linear.js";
import type { LoraAdapter, LoraRoute } from "./lora.js";
import { RopeTables } from "./rope.js";
import type { ModelWeights } from "./weights.js";

export type { Gradients } from "./decoder-layer.js";

export interface LossResult {
  /** Sum of token cross-entropies (nats) over the rows with a target. */
  lossSum: number;
  tokens: number;
  /** With explicit routes: the loss sum over each route's rows. */
  routeLossSums?: number[];
}

export class Model {
  readonly rope: RopeTables;
  readonly arena = new Arena();
  /** The active adapter (null = base model). Several adapters can be kept and switched freely. */
  adapter: LoraAdapter | null = null;

  constructor(
    readonly config: ModelConfig,
    public weights: ModelWeights,
  ) {
    validateConfig(config);
    this.rope = new RopeTables(config);
  }

  private context(rows: number, plan: PassContext["plan"], save: boolean, routes: LoraRoute[]): PassContext {
    const maxPosition = plan.positions.reduce((m, p) => Math.max(m, p), 0);
    this.rope.ensure(maxPosition + 1);
    for (const route of routes)
      if (!(Number.isInteger(route.start) && route.start >= 0 && route.rows >= 0 && route.start + route.rows <= rows))
        throw new RangeError(`LoRA route [${route.start}, +${route.rows}) lies outside the pass's ${rows} rows`);
    return { config: this.config, arena: this.arena, rope: this.rope, rows, plan, routes, save, loraSaved: new Map() };
  }

  /** The model's own adapter on every row (no routes without one). */
  private ownRoutes(rows: number, dropoutSeed: number | null, grad: LoraAdapter | null): LoraRoute[] {
    return this.adapter ? [{ adapter: this.adapter, start: 0, rows, dropoutSeed, grad }] : [];
  }

  /** Embeddings and all layers; returns the last hidden state [rows, D] (before the final norm). */
  private trunk(ctx: PassContext, tokens: Int32Array): Float32Array {
    const D = this.config.hiddenSize;
    let x = this.arena.f32(ctx.save ? "L0.x" : "x", ctx.rows * D);
    native.embeddingForward(x, this.weights.embedTokens, tokens, ctx.rows, D);
    for (let l = 0; l < this.config.numLayers; l++) x = layerForward(ctx, l, this.weights.layers[l], x);
    return x;
  }

  /** Final norm + LM head for the given rows of `hidden`; returns logits [rows.length, V] and what backward needs. */
  private head(hidden: Float32Array, rows: ArrayLike<number>, save: boolean) {
    const D = this.config.hiddenSize;
    const V = this.config.vocabSize;
    const m = rows.length;
    const selected = this.arena.f32("head.x", m * D);
    for (let i = 0; i < m; i++) selected.set(hidden.subarray(rows[i] * D, (rows[i] + 1) * D), i * D);
    const normed = this.arena.f32("head.n", m * D);
    const rstd = this.arena.f32("head.rstd", m);
    native.rmsnormForward(normed, rstd, selected, this.weights.finalNorm, m, D, this.config.rmsNormEps);
    const logits = this.arena.f32(save ? "head.logits" : "logits", m * V);
    linearForward(logits, normed, this.weights.lmHead, null, m, D, V);
    return { selected, normed, rstd, logits };
  }

  /** Logits at every position of each sequence (a full forward, no cache). */
  logits(sequences: ArrayLike<number>[]): Float32Array[] {
    const batch = packSequences(sequences);
    const ctx = this.context(batch.rows, { ...batch, cache: null }, false, this.ownRoutes(batch.rows, null, null));
    const hidden = this.trunk(ctx, batch.tokens);
    const all = Array.from({ length: batch.rows }, (_, i) => i);
    const { logits } = this.head(hidden, all, false);
    const V = this.config.vocabSize;
    return sequences.map((_, s) => logits.slice(batch.seqStart[s] * V, batch.seqStart[s + 1] * V));
  }

  /**
   * Cross-entropy of `targets` (one per row; −1 = no loss) and, when `grads` is given, the backward:
   * gradients of (gradScale · lossSum) are accumulated into grads.lora / grads.full. With `routes`, each route's
   * adapter serves its rows (instead of the model's own adapter) and accumulates into its route's `grad`;
   * `gradScales` then gives each row its own loss scale (each adapter normalises by its own tokens).
   */
  lossAndBackward(
    batch: PackedBatch,
    targets: Int32Array,
    options: {
      grads?: Gradients;
      gradScale?: number;
      dropoutSeed?: number | null;
      routes?: LoraRoute[];
      gradScales?: Float32Array;
    } = {},
  ): LossResult {
    const { grads, gradScale = 1 } = options;
    if (targets.length !== batch.rows) throw new Error(`targets has ${targets.length} rows, batch has ${batch.rows}`);
    if (options.gradScales && options.gradScales.length !== batch.rows)
      throw new Error(`gradScales has ${options.gradScales.length} rows, batch has ${batch.rows}`);
    const training = grads !== undefined;
    const routes =
      options.routes ??
      this.ownRoutes(batch.rows, training ? (options.dropoutSeed ?? null) : null, training ? grads.lora : null);
    const ctx = this.context(batch.rows, { ...batch, cache: null }, training, routes);
    const hidden = this.trunk(ctx, batch.tokens);
    const lossRows: number[] = [];
    for (let r = 0; r < batch.rows; r++) if (targets[r] >= 0) lossRows.push(r);
    const m = lossRows.length;
    if (m === 0)
      return { lossSum: 0, tokens: 0, ...(options.routes ? { routeLossSums: options.routes.map(() => 0) } : {}) };
    const { selected, normed, rstd, logits } = this.head(hidden, lossRows, training);
    const compactTargets = this.arena.i32("head.targets", m);
    lossRows.forEach((r, i) => {
      compactTargets[i] = targets[r];
    });
    const losses = this.arena.f32("head.losses", m);
    const V = this.config.vocabSize;
    const scaleOf = (i: number) => (training ? (options.gradScales?.[lossRows[i]] ?? gradScale) : 0);
    // one call per run of loss rows that share a scale (one run per adapter in a multi-adapter batch)
    for (let from = 0; from < m; ) {
      let to = from + 1;
      while (to < m && scaleOf(to) === scaleOf(from)) to++;
      native.crossEntropy(
        logits.subarray(from * V, to * V),
        losses.subarray(from, to),
        compactTargets.subarray(from, to),
        to - from,
        V,
        scaleOf(from),
      );
      from = to;
    }
    let lossSum = 0;
    for (let i = 0; i < m; i++) lossSum += losses[i];
    const routeLossSums = options.routes?.map((route) => {
      let sum = 0;
      lossRows.forEach((r, i) => {
        if (r >= route.start && r < route.start + route.rows) sum += losses[i];
      });
      return sum;
    });
    if (grads) this.backward(ctx, batch, grads, lossRows, { selected, normed, rstd, dlogits: logits });
    return { lossSum, tokens: m, ...(routeLossSums ? { routeLossSums } : {}) };
  }

  private backward(
    ctx: PassContext,
    batch: PackedBatch,
    grads: Gradients,
    lossRows: number[],
    head: { selected: Float32Array; normed: Float32Array; rstd: Float32Array; dlogits: Float32Array },
  ): void {
    const D = this.config.hiddenSize;
    const V = this.config.vocabSize;
    const m = lossRows.length;
    const full = grads.full;
    // LM head and final norm, on the rows that carry a loss
    const dNormed = this.arena.f32("d.head.n", m * D);
    linearBackwardInput(dNormed, head.dlogits, this.weights.lmHead, m, D, V, false);
    if (full) native.sgemm(true, false, V, D, m, 1, head.dlogits, V, head.normed, D, 1, full.lmHead, D);
    const dSelected = this.arena.zeros("d.head.x", m * D);
    native.rmsnormBackward(
      dSelected,
      full?.finalNorm ?? null,
      dNormed,
      head.selected,
      this.weights.finalNorm,
      head.rstd,
      m,
      D,
    );
    const dres = this.arena.zeros("d.res", batch.rows * D);
    lossRows.forEach((r, i) => {
      dres.set(dSelected.subarray(i * D, (i + 1) * D), r * D);
    });
    for (let l = this.config.numLayers - 1; l >= 0; l--) {
      const x = this.arena.f32(`L${l}.x`, batch.rows * D);
      layerBackward(ctx, l, this.weights.layers[l], x, dres, grads);
    }
    if (full) native.embeddingBackward(full.embedTokens, dres, batch.tokens, batch.rows, D);
  }

  /**
   * Forward of new tokens against a KV cache (prefill or decode). Token t sits at `positions[t]` of cache slot
   * `slots[t]` and attends to positions 0..positions[t] of that slot. Returns logits [outputRows.length, V].
   * `routes` says which adapter serves which rows (default: the model's own adapter on every row).
   */
  forwardCached(
    cache: KvCache,
    tokens: Int32Array,
    positions: Int32Array,
    slots: Int32Array,
    outputRows: ArrayLike<number>,
    routes?: LoraRoute[],
  ): Float32Array {
    const rows = tokens.length;
    const rowOf = this.arena.i32("cache.rowOf", rows);
    const keyBase = this.arena.i32("cache.keyBase", rows);
    const keyCount = this.arena.i32("cache.keyCount", rows);
    for (let t = 0; t < rows; t++) {
      if (positions[t] >= cache.capacity)
        throw new Error(`position ${positions[t]} exceeds the KV cache capacity ${cache.capacity}`);
      keyBase[t] = slots[t] * cache.capacity;
      rowOf[t] = keyBase[t] + positions[t];
      keyCount[t] = positions[t] + 1;
    }
    const plan = { positions, keyBase, keyCount, seqStart: null, cache: { k: cache.k[0], v: cache.v[0], rowOf } };
    const ctx = this.context(rows, plan, false, routes ?? this.ownRoutes(rows, null, null));
    const D = this.config.hiddenSize;
    let x = this.arena.f32("x", rows * D);
    native.embeddingForward(x, this.weights.embedTokens, tokens, rows, D);
    for (let l = 0; l < this.config.numLayers; l++) {
      plan.cache.k = cache.k[l];
      plan.cache.v = cache.v[l];
      x = layerForward(ctx, l, this.weights.layers[l], x);
    }
    return this.head(x, outputRows, false).logits;
  }
}
