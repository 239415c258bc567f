/**
 * Supervised finetuning on token sequences with loss masks: LoRA (only the adapter learns, the base stays frozen)
 * or full training (every weight, used to pretrain small models from scratch). The loss is the mean token
 * cross-entropy over the unmasked targets of an optimizer step (all its micro-batches together), so gradient
 * accumulation gives exactly the gradient of the large batch.
 */
import { packSequences } from "./batch.js";
import { checkParametersFinite, checkStepFinite, DEFAULT_DIVERGENCE_HINT } from "./divergence.js";
import { adapterTensors, type LoraAdapter, zerosLike } from "./lora.js";
import type { Gradients, Model } from "./model.js";
import { AdamW, type AdamWOptions, clipToNorm, DEFAULT_ADAMW, globalNorm } from "./optimizer.js";
import { Rng } from "./random.js";
import { learningRateAt, type ScheduleName, warmupStepsFromRatio } from "./schedule.js";
import type { ModelWeights } from "./weights.js";

export interface SftExample {
  tokens: ArrayLike<number>;
  /**
   * lossMask[i] = whether token i is a training target (predicted from tokens < i). null = every token after
   * the first (plain language modelling). Position 0 is never a target.
   */
  lossMask: ArrayLike<boolean | number> | null;
}

export interface TrainOptions extends AdamWOptions {
  epochs: number;
  /** Examples per micro-batch (packed into one forward). */
  batchSize: number;
  gradientAccumulation: number;
  lr: number;
  schedule: ScheduleName;
  /** Warmup as a fraction of total steps (HF warmup_ratio); ignored when warmupSteps is set. */
  warmupRatio: number;
  warmupSteps: number | null;
  /** Global-norm clipping threshold; 0 disables (HF max_grad_norm, default 1). */
  maxGradNorm: number;
  seed: number;
  shuffle: boolean;
  /** Stop after this many optimizer steps (the schedule spans them); null = all epochs. HF's max_steps, which is
   *  also how its Trainer runs a fractional number of epochs. */
  maxSteps: number | null;
}

export const DEFAULT_TRAIN: Readonly<TrainOptions> = {
  ...DEFAULT_ADAMW,
  epochs: 1,
  batchSize: 1,
  gradientAccumulation: 1,
  lr: 1e-4,
  schedule: "linear",
  warmupRatio: 0,
  warmupSteps: null,
  maxGradNorm: 1,
  seed: 0,
  shuffle: true,
  maxSteps: null,
};

export interface StepReport {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  tokensPerSecond: number;
}

export type TrainTarget = { kind: "lora"; adapter: LoraAdapter } | { kind: "full" };

export interface TrainResult {
  steps: number;
  losses: number[];
  tokensTrained: number;
  seconds: number;
}

/** Per-row next-token targets for one example (−1 where no loss). */
export function exampleTargets(example: SftExample): Int32Array {
  const n = example.tokens.length;
  const targets = new Int32Array(n).fill(-1);
  for (let i = 0; i + 1 < n; i++) {
    const trained = example.lossMask === null || Boolean(example.lossMask[i + 1]);
    if (trained) targets[i] = example.tokens[i + 1];
  }
  return targets;
}

/** Gradient buffers shaped like the weights (tied embeddings share one buffer, as they share one tensor). */
export function zeroGradientsLike(weights: ModelWeights): ModelWeights {
  const z = (a: Float32Array | null) => (a ? new Float32Array(a.length) : null);
  const embedTokens = new Float32Array(weights.embedTokens.length);
  return {
    embedTokens,
    finalNorm: new Float32Array(weights.finalNorm.length),
    lmHead: weights.lmHead === weights.embedTokens ? embedTokens : new Float32Array(weights.lmHead.length),
    layers: weights.layers.map((layer) => ({
      inputNorm: new Float32Array(layer.inputNorm.length),
      qProj: new Float32Array(layer.qProj.length),
      kProj: new Float32Array(layer.kProj.length),
      vProj: new Float32Array(layer.vProj.length),
      oProj: new Float32Array(layer.oProj.length),
      qBias: z(layer.qBias),
      kBias: z(layer.kBias),
      vBias: z(layer.vBias),
      oBias: z(layer.oBias),
      postAttentionNorm: new Float32Array(layer.postAttentionNorm.length),
      gateProj: new Float32Array(layer.gateProj.length),
      upProj: new Float32Array(layer.upProj.length),
      downProj: new Float32Array(layer.downProj.length),
    })),
  };
}

/** Every distinct tensor of a weights object, in a stable order. */
export function weightTensors(weights: ModelWeights): Float32Array[] {
  const list: Float32Array[] = [weights.embedTokens];
  for (const layer of weights.layers)
    for (const t of [
      layer.inputNorm,
      layer.qProj,
      layer.kProj,
      layer.vProj,
      layer.oProj,
      layer.qBias,
      layer.kBias,
      layer.vBias,
      layer.oBias,
      layer.postAttentionNorm,
      layer.gateProj,
      layer.upProj,
      layer.downProj,
    ])
      if (t) list.push(t);
  list.push(weights.finalNorm);
  if (weights.lmHead !== weights.embedTokens) list.push(weights.lmHead);
  return list;
}

function shuffled(count: number, rng: Rng | null): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (rng)
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
  return order;
}

/**
 * Trains `model` on `examples`; the adapter (or, for full training, the model's weights) is updated in place.
 * Throws TrainingDivergedError at the first step whose loss or gradient norm is not finite (before its update) or
 * whose update left a parameter non-finite; the target's values are then unusable and must be discarded.
 */
export function trainSft(
  model: Model,
  examples: SftExample[],
  target: TrainTarget,
  options: Partial<TrainOptions> = {},
  onStep?: (report: StepReport) => void,
): TrainResult {
  const opts: TrainOptions = { ...DEFAULT_TRAIN, ...options };
  if (examples.length === 0) throw new Error("trainSft: no training examples");
  for (const key of ["epochs", "batchSize", "gradientAccumulation"] as const)
    if (!Number.isInteger(opts[key]) || opts[key] < 1)
      throw new Error(`trainSft: ${key} must be a positive integer, got ${opts[key]}`);
  const examplesPerStep = opts.batchSize * opts.gradientAccumulation;
  const stepsPerEpoch = Math.ceil(examples.length / examplesPerStep);
  if (opts.maxSteps !== null && !(Number.isInteger(opts.maxSteps) && opts.maxSteps >= 1))
    throw new Error(`trainSft: maxSteps must be a positive integer or null, got ${opts.maxSteps}`);
  const totalSteps = Math.min(stepsPerEpoch * opts.epochs, opts.maxSteps ?? Number.POSITIVE_INFINITY);
  const warmupSteps = opts.warmupSteps ?? warmupStepsFromRatio(opts.warmupRatio, totalSteps);

  const previousAdapter = model.adapter;
  let params: Float32Array[];
  let gradTensors: Float32Array[];
  let grads: Gradients;
  if (target.kind === "lora") {
    model.adapter = target.adapter;
    const g = zerosLike(target.adapter);
    grads = { lora: g, full: null };
    params = adapterTensors(target.adapter);
    gradTensors = adapterTensors(g);
  } else {
    const g = zeroGradientsLike(model.weights);
    grads = { lora: null, full: g };
    params = weightTensors(model.weights);
    gradTensors = weightTensors(g);
  }
  const optimizer = new AdamW(params, opts);
  const hint = target.kind === "lora" ? DEFAULT_DIVERGENCE_HINT : "lower the learning rate";
  const rng = new Rng(opts.seed);
  const targetsOf = examples.map(exampleTargets);
  const losses: number[] = [];
  let tokensTrained = 0;
  const started = performance.now();
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = shuffled(examples.length, opts.shuffle ? rng : null);
      for (let s = 0; s < stepsPerEpoch && epoch * stepsPerEpoch + s < totalSteps; s++) {
        const stepStart = performance.now();
        const stepExamples = order.slice(s * examplesPerStep, (s + 1) * examplesPerStep);
        const stepTokens = stepExamples.reduce(
          (sum, i) => sum + targetsOf[i].reduce((n, t) => n + (t >= 0 ? 1 : 0), 0),
          0,
        );
        for (const g of gradTensors) g.fill(0);
        let lossSum = 0;
        for (let mb = 0; mb < stepExamples.length; mb += opts.batchSize) {
          const chosen = stepExamples.slice(mb, mb + opts.batchSize);
          const batch = packSequences(chosen.map((i) => examples[i].tokens));
          const targets = new Int32Array(batch.rows);
          chosen.forEach((i, k) => {
            targets.set(targetsOf[i], batch.seqStart[k]);
          });
          const result = model.lossAndBackward(batch, targets, {
            grads,
            gradScale: stepTokens > 0 ? 1 / stepTokens : 0,
            dropoutSeed: rng.nextUint32(),
          });
          lossSum += result.lossSum;
        }
        const step = epoch * stepsPerEpoch + s;
        const loss = stepTokens > 0 ? lossSum / stepTokens : 0;
        // Measured even without clipping: a non-finite norm stops training before the update writes NaN.
        const norm = globalNorm(gradTensors);
        const state = { step: step + 1, totalSteps, epoch: epoch + 1, loss, gradNorm: norm };
        checkStepFinite(state, hint);
        if (opts.maxGradNorm > 0) clipToNorm(gradTensors, norm, opts.maxGradNorm);
        const gradNorm = opts.maxGradNorm > 0 ? norm : Number.NaN;
        const lr = learningRateAt(step, { schedule: opts.schedule, baseLr: opts.lr, warmupSteps, totalSteps });
        optimizer.update(gradTensors, lr);
        checkParametersFinite(params, state, hint);
        losses.push(loss);
        tokensTrained += stepTokens;
        const seconds = (performance.now() - stepStart) / 1000;
        onStep?.({
          step: step + 1,
          totalSteps,
          epoch,
          loss,
          lr,
          gradNorm,
          tokens: stepTokens,
          tokensPerSecond: stepTokens / seconds,
        });
      }
    }
  } finally {
    if (target.kind === "lora") model.adapter = previousAdapter;
  }
  return { steps: totalSteps, losses, tokensTrained, seconds: (performance.now() - started) / 1000 };
}
