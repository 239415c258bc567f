/**
 * Many LoRA adapters trained at once over one shared, frozen base model (multi-LoRA training, as mLoRA/ASPEN): each
 * optimizer step of every unfinished adapter contributes its micro-batches to packed passes, the base projections
 * see all rows in one matmul, and each adapter's low-rank update and gradient touch only its own rows (routes).
 * Every adapter keeps its own data order, dropout seeds, loss normalisation (its own tokens per step), clipping,
 * schedule and AdamW state (TrainJob), so the result equals training each alone up to float rounding: the base
 * matmuls see more rows, which can change OpenBLAS's kernel choice and so the last bits of each product.
 */
import { packSequences } from "./batch.js";
import type { ModelConfig } from "./config.js";
import { TrainingDivergedError } from "./divergence.js";
import type { LoraAdapter, LoraRoute } from "./lora.js";
import type { Model } from "./model.js";
import { type MicroBatch, TrainJob } from "./train-job.js";
import type { SftExample, StepReport, TrainOptions, TrainResult } from "./train-options.js";

export interface AdapterJob {
  examples: SftExample[];
  /** Trained in place. */
  adapter: LoraAdapter;
  options?: Partial<TrainOptions>;
}

export type AdapterJobOutcome = { ok: true; result: TrainResult } | { ok: false; error: TrainingDivergedError };

export interface TrainManyOptions {
  /** Most rows (tokens) in one pass; further micro-batches go to further passes (one micro-batch always fits). */
  maxRowsPerPass: number;
}

/** Bytes of memory per row (token) that a training pass keeps: each layer's saved activations, plus its logits. */
export function trainingBytesPerRow(config: ModelConfig): number {
  const qDim = config.numHeads * config.headDim;
  const kvDim = config.numKvHeads * config.headDim;
  const perLayer = 4 * config.hiddenSize + 2 * qDim + 2 * kvDim + 3 * config.intermediateSize + config.numHeads + 2;
  return 4 * (config.numLayers * perLayer + config.vocabSize + 2 * config.hiddenSize);
}

/** Rows per pass that keep a pass's activations within `budgetBytes` (default 2 GiB). */
export function defaultMaxRowsPerPass(config: ModelConfig, budgetBytes = 2 * 1024 ** 3): number {
  return Math.max(1, Math.floor(budgetBytes / trainingBytesPerRow(config)));
}

interface Unit {
  job: number;
  micro: MicroBatch;
  gradScale: number;
  rows: number;
  /** The step's first micro-batch: its backward writes the job's gradients, which are not zeroed beforehand. */
  first: boolean;
}

/** Groups units into passes of at most maxRows rows, never two units of one job in a pass (one gradient each). */
function passesOf(units: Unit[], maxRows: number): Unit[][] {
  const passes: Unit[][] = [];
  let current: Unit[] = [];
  let rows = 0;
  for (const unit of units) {
    const full = current.length > 0 && (rows + unit.rows > maxRows || current.some((u) => u.job === unit.job));
    if (full) {
      passes.push(current);
      current = [];
      rows = 0;
    }
    current.push(unit);
    rows += unit.rows;
  }
  if (current.length > 0) passes.push(current);
  return passes;
}

/**
 * Trains every job's adapter; returns one outcome per job, in order. A job that diverges (TrainingDivergedError)
 * stops there with its error and the others go on; its adapter is then unusable. Other errors propagate.
 */
export function trainMany(
  model: Model,
  jobs: AdapterJob[],
  options: Partial<TrainManyOptions> = {},
  onStep?: (job: number, report: StepReport) => void,
): AdapterJobOutcome[] {
  const maxRows = options.maxRowsPerPass ?? defaultMaxRowsPerPass(model.config);
  if (!(Number.isInteger(maxRows) && maxRows >= 1))
    throw new RangeError(`trainMany: maxRowsPerPass must be a positive integer, got ${maxRows}`);
  const runs = jobs.map((job) => new TrainJob(job.examples, { kind: "lora", adapter: job.adapter }, job.options));
  const failed: (TrainingDivergedError | null)[] = jobs.map(() => null);
  for (;;) {
    const active = runs.flatMap((run, i) => (run.done || failed[i] ? [] : [i]));
    if (active.length === 0) break;
    // the first micro-batch's backward overwrites each gradient (it runs before the others: passesOf keeps the order)
    const planned = active.map((job) => ({ job, step: runs[job].beginStep(false) }));
    // micro-batch m of every job, then m + 1: each job's gradient accumulates in the order it would alone
    const units: Unit[] = [];
    const most = Math.max(...planned.map((p) => p.step.microBatches.length));
    for (let m = 0; m < most; m++)
      for (const { job, step } of planned) {
        const micro = step.microBatches[m];
        if (!micro) continue;
        const rows = micro.examples.reduce((sum, i) => sum + runs[job].exampleLength(i), 0);
        units.push({ job, micro, gradScale: step.gradScale, rows, first: m === 0 });
      }
    const lossSums = new Map<number, number>(active.map((job) => [job, 0]));
    for (const pass of passesOf(units, maxRows)) runPass(model, runs, pass, lossSums);
    for (const job of active) {
      try {
        const report = runs[job].finishStep(lossSums.get(job) ?? 0);
        onStep?.(job, report);
      } catch (error) {
        if (!(error instanceof TrainingDivergedError)) throw error;
        failed[job] = error;
      }
    }
  }
  return runs.map((run, i) => {
    const error = failed[i];
    return error ? { ok: false, error } : { ok: true, result: run.result() };
  });
}

/** One packed forward + backward over several jobs' micro-batches, each on its own rows and adapter. */
function runPass(model: Model, runs: TrainJob[], pass: Unit[], lossSums: Map<number, number>): void {
  const sequences: ArrayLike<number>[] = [];
  const targetParts: Int32Array[] = [];
  const routes: LoraRoute[] = [];
  let row = 0;
  for (const unit of pass) {
    const run = runs[unit.job];
    if (run.target.kind !== "lora") throw new Error("trainMany trains LoRA adapters only");
    for (const i of unit.micro.examples) {
      sequences.push(run.examples[i].tokens);
      targetParts.push(run.targets(i));
    }
    routes.push({
      adapter: run.target.adapter,
      start: row,
      rows: unit.rows,
      dropoutSeed: unit.micro.dropoutSeed,
      grad: run.gradients.lora,
      gradOverwrite: unit.first,
    });
    row += unit.rows;
  }
  const batch = packSequences(sequences);
  const targets = new Int32Array(batch.rows);
  const gradScales = new Float32Array(batch.rows);
  targetParts.forEach((part, s) => {
    targets.set(part, batch.seqStart[s]);
  });
  pass.forEach((unit, k) => {
    gradScales.fill(unit.gradScale, routes[k].start, routes[k].start + routes[k].rows);
  });
  const result = model.lossAndBackward(batch, targets, { grads: { lora: null, full: null }, routes, gradScales });
  // a pass without loss rows runs no backward, and an empty route none of its own: zero what they would have written
  for (const unit of pass) if (unit.first && (result.tokens === 0 || unit.rows === 0)) runs[unit.job].zeroGradients();
  pass.forEach((unit, k) => {
    lossSums.set(unit.job, (lossSums.get(unit.job) ?? 0) + (result.routeLossSums?.[k] ?? 0));
  });
}
