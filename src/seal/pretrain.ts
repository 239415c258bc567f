/**
 * Pretraining a model from scratch on a list of documents (full training of every weight), resumable: the plan of
 * batches is a pure function of the documents, the settings and the seed, so a run restarted from its last
 * checkpoint (weights, AdamW moments, step, log) continues exactly where it stopped.
 *
 * Documents are never concatenated across their boundaries: each step packs whole documents (split into chunks of
 * at most `maxSequenceTokens`) into one variable-length batch of about `tokensPerStep` tokens, so no document
 * attends to another (nanoGPT concatenates; with short, independent documents this is cleaner and costs nothing
 * in the engine's packed batches). Weight decay applies to matrices and embeddings, not to norm weights or biases.
 */
import fs from "node:fs";
import path from "node:path";
import { packSequences } from "../engine/batch.js";
import type { ModelConfig } from "../engine/config.js";
import { checkParametersFinite, checkStepFinite } from "../engine/divergence.js";
import { Model } from "../engine/model.js";
import { AdamW, clipToNorm, globalNorm } from "../engine/optimizer.js";
import { Rng } from "../engine/random.js";
import { learningRateAt } from "../engine/schedule.js";
import { exampleTargets, weightTensors, zeroGradientsLike } from "../engine/train.js";
import type { ModelWeights } from "../engine/weights.js";
import { writeFileAtomic } from "../io/atomic-file.js";
import { loadModel, saveModel } from "../io/model-files.js";
import { loadSafetensors, writeSafetensors } from "../io/safetensors.js";

export interface PretrainSettings {
  /** Optimizer steps in all. */
  steps: number;
  /** Tokens packed into one step (whole documents; a step may hold fewer, never more unless one chunk is larger). */
  tokensPerStep: number;
  /** Longer documents are split into chunks of this many tokens. */
  maxSequenceTokens: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  beta2: number;
  maxGradNorm: number;
  seed: number;
  /** Save a checkpoint every this many steps (and at the end). */
  checkpointEvery: number;
  /** Held-out loss every this many steps (0: never). */
  evalEvery: number;
}

export const DEFAULT_PRETRAIN: Readonly<PretrainSettings> = {
  steps: 1000,
  tokensPerStep: 4096,
  maxSequenceTokens: 512,
  lr: 3e-3,
  warmupSteps: 50,
  weightDecay: 0.1,
  beta2: 0.99,
  maxGradNorm: 1,
  seed: 0,
  checkpointEvery: 100,
  evalEvery: 100,
};

export interface PretrainLogEntry {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  epoch: number;
  seconds: number;
  /** Mean held-out loss per token, on steps where it was measured. */
  evalLoss?: number;
}

/** One step of the plan: indices into the chunk list. */
export type PlannedStep = number[];

/** Splits tokenized documents into chunks of at most `maxTokens` (a chunk of 1 token has nothing to predict). */
export function chunkDocuments(documents: readonly number[][], maxTokens: number): number[][] {
  const chunks: number[][] = [];
  for (const doc of documents)
    for (let start = 0; start < doc.length; start += maxTokens) {
      const chunk = doc.slice(start, start + maxTokens);
      if (chunk.length >= 2) chunks.push(chunk);
    }
  return chunks;
}

/**
 * The batches of `steps` steps: each epoch visits every chunk once in a seeded random order, packed greedily into
 * steps of at most `tokensPerStep` tokens. Epochs continue until `steps` are planned.
 */
export function planSteps(
  chunkLengths: readonly number[],
  settings: Pick<PretrainSettings, "steps" | "tokensPerStep" | "seed">,
): { step: PlannedStep; epoch: number }[] {
  if (chunkLengths.length === 0) throw new Error("pretraining needs at least one document of 2 or more tokens");
  const plan: { step: PlannedStep; epoch: number }[] = [];
  for (let epoch = 0; plan.length < settings.steps; epoch++) {
    const rng = new Rng(settings.seed * 7919 + epoch);
    const order = chunkLengths.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let current: number[] = [];
    let tokens = 0;
    for (const index of order) {
      if (current.length > 0 && tokens + chunkLengths[index] > settings.tokensPerStep) {
        plan.push({ step: current, epoch });
        if (plan.length === settings.steps) return plan;
        current = [];
        tokens = 0;
      }
      current.push(index);
      tokens += chunkLengths[index];
    }
    if (current.length > 0) plan.push({ step: current, epoch });
  }
  return plan.slice(0, settings.steps);
}

const DIVERGENCE_HINT = "lower the learning rate";
const CHECKPOINT = "checkpoint";
const OPTIMIZER_FILE = "optimizer.safetensors";
const STATE_FILE = "state.json";

interface CheckpointState {
  step: number;
  log: PretrainLogEntry[];
}

/** Tensors that get weight decay (matrices, embeddings) and those that do not (norm weights, biases). */
function parameterGroups(weights: ModelWeights): { decay: Float32Array[]; noDecay: Float32Array[] } {
  const vectors = new Set<Float32Array>([weights.finalNorm]);
  for (const layer of weights.layers)
    for (const t of [layer.inputNorm, layer.postAttentionNorm, layer.qBias, layer.kBias, layer.vBias, layer.oBias])
      if (t) vectors.add(t);
  const all = weightTensors(weights);
  return { decay: all.filter((t) => !vectors.has(t)), noDecay: all.filter((t) => vectors.has(t)) };
}

/** Saves weights, both AdamW states and the log into `{dir}/checkpoint` (written aside, then swapped in). */
function saveCheckpoint(
  dir: string,
  config: ModelConfig,
  weights: ModelWeights,
  optimizers: AdamW[],
  state: CheckpointState,
) {
  const final = path.join(dir, CHECKPOINT);
  const partial = `${final}.partial`;
  const old = `${final}.old`;
  fs.rmSync(partial, { recursive: true, force: true });
  saveModel(partial, { config, weights });
  const tensors = optimizers.flatMap((optimizer, g) => {
    const { m, v } = optimizer.state();
    return [
      ...m.map((data, i) => ({ name: `group${g}.m.${i}`, dtype: "F32" as const, shape: [data.length], data })),
      ...v.map((data, i) => ({ name: `group${g}.v.${i}`, dtype: "F32" as const, shape: [data.length], data })),
    ];
  });
  writeSafetensors(path.join(partial, OPTIMIZER_FILE), tensors);
  writeFileAtomic(path.join(partial, STATE_FILE), JSON.stringify(state));
  // old checkpoint aside, new one in, old one gone: a crash at any point leaves one complete checkpoint
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(final)) fs.renameSync(final, old);
  fs.renameSync(partial, final);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The latest complete checkpoint in `dir` (the aside copy if a crash hit between the two renames), or null. */
function findCheckpoint(dir: string): string | null {
  for (const name of [CHECKPOINT, `${CHECKPOINT}.old`]) {
    const where = path.join(dir, name);
    if (fs.existsSync(path.join(where, STATE_FILE))) return where;
  }
  return null;
}

export interface PretrainRequest {
  config: ModelConfig;
  /** Initial weights (ignored when resuming from a checkpoint in `dir`). */
  initialWeights: ModelWeights;
  /** Tokenized training documents. */
  documents: readonly number[][];
  /** Tokenized held-out documents for the eval loss (may be empty). */
  evalDocuments: readonly number[][];
  settings: PretrainSettings;
  /** Run folder: checkpoint/ lives here. */
  dir: string;
  onStep?: (entry: PretrainLogEntry, totalSteps: number) => void;
  log?: (line: string) => void;
}

export interface PretrainResult {
  weights: ModelWeights;
  log: PretrainLogEntry[];
  resumedFrom: number;
}

/** One packed batch of whole chunks with next-token targets (plain language modelling). */
function packChunks(chunks: readonly number[][]) {
  const packed = packSequences([...chunks]);
  const targets = new Int32Array(packed.rows);
  chunks.forEach((chunk, k) => {
    targets.set(exampleTargets({ tokens: chunk, lossMask: null }), packed.seqStart[k]);
  });
  return { packed, targets, tokens: packed.rows - chunks.length };
}

/** Mean loss per token of `chunks` (no gradients), in batches of about `tokensPerBatch`. */
export function meanLoss(model: Model, chunks: readonly number[][], tokensPerBatch: number): number {
  let lossSum = 0;
  let tokens = 0;
  for (let i = 0; i < chunks.length; ) {
    const batch: number[][] = [];
    let size = 0;
    while (i < chunks.length && (batch.length === 0 || size + chunks[i].length <= tokensPerBatch)) {
      batch.push(chunks[i]);
      size += chunks[i].length;
      i++;
    }
    const { packed, targets } = packChunks(batch);
    const result = model.lossAndBackward(packed, targets);
    lossSum += result.lossSum;
    tokens += result.tokens;
  }
  return tokens === 0 ? Number.NaN : lossSum / tokens;
}

export function pretrain(request: PretrainRequest): PretrainResult {
  const { config, settings, dir } = request;
  const log = request.log ?? (() => {});
  fs.mkdirSync(dir, { recursive: true });
  const chunks = chunkDocuments(request.documents, settings.maxSequenceTokens);
  const evalChunks = chunkDocuments(request.evalDocuments, settings.maxSequenceTokens);
  const plan = planSteps(
    chunks.map((c) => c.length),
    settings,
  );

  let weights = request.initialWeights;
  let state: CheckpointState = { step: 0, log: [] };
  const checkpoint = findCheckpoint(dir);
  let optimizerTensors: Map<string, { data: ArrayLike<number> }> | null = null;
  if (checkpoint !== null) {
    weights = loadModel(checkpoint).weights;
    state = JSON.parse(fs.readFileSync(path.join(checkpoint, STATE_FILE), "utf8")) as CheckpointState;
    optimizerTensors = loadSafetensors(path.join(checkpoint, OPTIMIZER_FILE));
    log(`resuming at step ${state.step} from ${checkpoint}`);
  }
  const model = new Model(config, weights);
  const grads = zeroGradientsLike(weights);
  const groups = parameterGroups(weights);
  const gradGroups = parameterGroups(grads);
  const adamw = { beta1: 0.9, beta2: settings.beta2, eps: 1e-8 };
  const optimizers = [
    new AdamW(groups.decay, { ...adamw, weightDecay: settings.weightDecay }),
    new AdamW(groups.noDecay, { ...adamw, weightDecay: 0 }),
  ];
  if (optimizerTensors !== null) {
    const tensors = optimizerTensors;
    optimizers.forEach((optimizer, g) => {
      const take = (kind: string) =>
        optimizer.params.map((_, i) => {
          const tensor = tensors.get(`group${g}.${kind}.${i}`);
          if (tensor === undefined) throw new Error(`${checkpoint}: optimizer state lacks group${g}.${kind}.${i}`);
          return tensor.data;
        });
      optimizer.loadState({ step: state.step, m: take("m"), v: take("v") });
    });
  }
  const allGrads = [...gradGroups.decay, ...gradGroups.noDecay];
  const allParams = [...groups.decay, ...groups.noDecay];
  const schedule = {
    schedule: "cosine" as const,
    baseLr: settings.lr,
    warmupSteps: settings.warmupSteps,
    totalSteps: settings.steps,
  };
  const resumedFrom = state.step;

  for (let step = state.step; step < plan.length; step++) {
    const started = performance.now();
    const batchChunks = plan[step].step.map((index) => chunks[index]);
    const { packed, targets, tokens } = packChunks(batchChunks);
    for (const g of allGrads) g.fill(0);
    const result = model.lossAndBackward(packed, targets, {
      grads: { lora: null, full: grads },
      gradScale: 1 / tokens,
      dropoutSeed: settings.seed + step, // a function of the step, so a resumed run draws the same
    });
    const loss = result.lossSum / tokens;
    // A diverged step stops the run before its update, so no checkpoint ever holds NaN weights.
    const norm = globalNorm(allGrads);
    const stepState = { step: step + 1, totalSteps: plan.length, epoch: plan[step].epoch + 1, loss, gradNorm: norm };
    checkStepFinite(stepState, DIVERGENCE_HINT);
    if (settings.maxGradNorm > 0) clipToNorm(allGrads, norm, settings.maxGradNorm);
    const gradNorm = settings.maxGradNorm > 0 ? norm : Number.NaN;
    const lr = learningRateAt(step, schedule);
    optimizers[0].update(gradGroups.decay, lr);
    optimizers[1].update(gradGroups.noDecay, lr);
    checkParametersFinite(allParams, stepState, DIVERGENCE_HINT);
    const entry: PretrainLogEntry = {
      step: step + 1,
      loss,
      lr,
      gradNorm,
      tokens,
      epoch: plan[step].epoch,
      seconds: (performance.now() - started) / 1000,
    };
    const last = step + 1 === plan.length;
    if (evalChunks.length > 0 && settings.evalEvery > 0 && ((step + 1) % settings.evalEvery === 0 || last))
      entry.evalLoss = meanLoss(model, evalChunks, settings.tokensPerStep);
    state.log.push(entry);
    request.onStep?.(entry, plan.length);
    if ((step + 1) % settings.checkpointEvery === 0 || last) {
      state = { step: step + 1, log: state.log };
      saveCheckpoint(dir, config, weights, optimizers, state);
    }
  }
  return { weights, log: state.log, resumedFrom };
}
