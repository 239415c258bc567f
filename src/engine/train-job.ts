/**
 * One training run (a LoRA adapter, or every weight of a model) advanced one optimizer step at a time, so that a
 * single run (trainSft) and many runs sharing one pass over the base model (trainMany) take exactly the same steps:
 * the same data order, dropout seeds, loss normalisation, clipping, schedule and AdamW state per run.
 */
import { packSequences } from "./batch.js";
import { checkStepFinite, DEFAULT_DIVERGENCE_HINT, TrainingDivergedError } from "./divergence.js";
import { adapterTensors, type LoraAdapter, zerosLike } from "./lora.js";
import type { Gradients } from "./model.js";
import { AdamW, globalNorm } from "./optimizer.js";
import { Rng } from "./random.js";
import { learningRateAt, warmupStepsFromRatio } from "./schedule.js";
import {
  DEFAULT_TRAIN,
  type SftExample,
  type StepReport,
  type TrainOptions,
  type TrainResult,
} from "./train-options.js";
import { exampleTargets, weightTensors, zeroGradientsLike } from "./train-tensors.js";
import type { ModelWeights } from "./weights.js";

export type TrainJobTarget = { kind: "lora"; adapter: LoraAdapter } | { kind: "full"; weights: ModelWeights };

export interface MicroBatch {
  /** Example indices, in packing order. */
  examples: number[];
  dropoutSeed: number;
}

export interface PlannedStep {
  microBatches: MicroBatch[];
  /** Unmasked target tokens of the whole step (the loss normalisation). */
  tokens: number;
  /** Scale of each token's loss gradient: 1 / tokens (0 when the step has none). */
  gradScale: number;
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

export class TrainJob {
  readonly opts: TrainOptions;
  readonly totalSteps: number;
  /** Gradient buffers the backward accumulates into. */
  readonly gradients: Gradients;
  private readonly stepsPerEpoch: number;
  private readonly examplesPerStep: number;
  private readonly warmupSteps: number;
  private readonly params: Float32Array[];
  private readonly gradTensors: Float32Array[];
  private readonly optimizer: AdamW;
  private readonly hint: string;
  private readonly rng: Rng;
  private readonly targetsOf: Int32Array[];
  /** Unmasked targets per example. */
  private readonly lossCounts: number[];
  private order: number[] = [];
  private step = 0;
  private stepStarted = 0;
  private stepTokens = 0;
  private readonly started = performance.now();
  readonly losses: number[] = [];
  tokensTrained = 0;

  constructor(
    readonly examples: SftExample[],
    readonly target: TrainJobTarget,
    options: Partial<TrainOptions> = {},
  ) {
    const opts: TrainOptions = { ...DEFAULT_TRAIN, ...options };
    if (examples.length === 0) throw new Error("trainSft: no training examples");
    for (const key of ["epochs", "batchSize", "gradientAccumulation"] as const)
      if (!Number.isInteger(opts[key]) || opts[key] < 1)
        throw new Error(`trainSft: ${key} must be a positive integer, got ${opts[key]}`);
    if (opts.maxSteps !== null && !(Number.isInteger(opts.maxSteps) && opts.maxSteps >= 1))
      throw new Error(`trainSft: maxSteps must be a positive integer or null, got ${opts.maxSteps}`);
    this.opts = opts;
    this.examplesPerStep = opts.batchSize * opts.gradientAccumulation;
    this.stepsPerEpoch = Math.ceil(examples.length / this.examplesPerStep);
    this.totalSteps = Math.min(this.stepsPerEpoch * opts.epochs, opts.maxSteps ?? Number.POSITIVE_INFINITY);
    this.warmupSteps = opts.warmupSteps ?? warmupStepsFromRatio(opts.warmupRatio, this.totalSteps);
    if (target.kind === "lora") {
      const grad = zerosLike(target.adapter);
      this.gradients = { lora: grad, full: null };
      this.params = adapterTensors(target.adapter);
      this.gradTensors = adapterTensors(grad);
    } else {
      const grad = zeroGradientsLike(target.weights);
      this.gradients = { lora: null, full: grad };
      this.params = weightTensors(target.weights);
      this.gradTensors = weightTensors(grad);
    }
    this.optimizer = new AdamW(this.params, opts);
    this.hint = target.kind === "lora" ? DEFAULT_DIVERGENCE_HINT : "lower the learning rate";
    this.rng = new Rng(opts.seed);
    this.targetsOf = examples.map(exampleTargets);
    this.lossCounts = this.targetsOf.map((t) => t.reduce((n, x) => n + (x >= 0 ? 1 : 0), 0));
  }

  get done(): boolean {
    return this.step >= this.totalSteps;
  }

  get stepsDone(): number {
    return this.step;
  }

  /** Tokens of one example (its sequence length), for packing budgets. */
  exampleLength(index: number): number {
    return this.examples[index].tokens.length;
  }

  /**
   * Zeroes the gradients and returns the next optimizer step's micro-batches (drawing its shuffle and seeds).
   * zeroGradients false: the caller's first micro-batch overwrites them instead (LoraRoute.gradOverwrite).
   */
  beginStep(zeroGradients = true): PlannedStep {
    if (this.done) throw new Error("TrainJob: every step is done");
    this.stepStarted = performance.now();
    const inEpoch = this.step % this.stepsPerEpoch;
    if (inEpoch === 0) this.order = shuffled(this.examples.length, this.opts.shuffle ? this.rng : null);
    const chosen = this.order.slice(inEpoch * this.examplesPerStep, (inEpoch + 1) * this.examplesPerStep);
    const microBatches: MicroBatch[] = [];
    for (let mb = 0; mb < chosen.length; mb += this.opts.batchSize)
      microBatches.push({ examples: chosen.slice(mb, mb + this.opts.batchSize), dropoutSeed: this.rng.nextUint32() });
    this.stepTokens = chosen.reduce((sum, i) => sum + this.lossCounts[i], 0);
    if (zeroGradients) this.zeroGradients();
    return { microBatches, tokens: this.stepTokens, gradScale: this.stepTokens > 0 ? 1 / this.stepTokens : 0 };
  }

  zeroGradients(): void {
    for (const g of this.gradTensors) g.fill(0);
  }

  /** The packed batch and per-row targets of some examples. */
  pack(indices: number[]) {
    const batch = packSequences(indices.map((i) => this.examples[i].tokens));
    const targets = new Int32Array(batch.rows);
    indices.forEach((i, k) => {
      targets.set(this.targetsOf[i], batch.seqStart[k]);
    });
    return { batch, targets };
  }

  /** The targets of one example (−1 where no loss). */
  targets(index: number): Int32Array {
    return this.targetsOf[index];
  }

  /**
   * Ends the step begun by beginStep once every micro-batch's gradient is accumulated: checks finiteness, clips,
   * applies AdamW at the scheduled rate. Throws TrainingDivergedError (the target is then unusable).
   */
  finishStep(lossSum: number): StepReport {
    const step = this.step;
    const epoch = Math.floor(step / this.stepsPerEpoch);
    const loss = this.stepTokens > 0 ? lossSum / this.stepTokens : 0;
    const { maxGradNorm } = this.opts;
    const lr = learningRateAt(step, {
      schedule: this.opts.schedule,
      baseLr: this.opts.lr,
      warmupSteps: this.warmupSteps,
      totalSteps: this.totalSteps,
    });
    const state = (gradNorm: number) => ({
      step: step + 1,
      totalSteps: this.totalSteps,
      epoch: epoch + 1,
      loss,
      gradNorm,
    });
    if (!Number.isFinite(loss)) checkStepFinite(state(globalNorm(this.gradTensors)), this.hint);
    // Norm (measured even without clipping: a non-finite one stops training before the update writes NaN), clipping,
    // AdamW and the parameters' norm, in one native call.
    const fused = this.optimizer.clipAndUpdate(this.gradTensors, lr, maxGradNorm);
    const norm = fused.gradNorm;
    checkStepFinite(state(norm), this.hint);
    if (!Number.isFinite(Math.sqrt(fused.paramSquaredNorm)))
      throw new TrainingDivergedError({ ...state(norm), cause: "parameters" }, this.hint);
    this.losses.push(loss);
    this.tokensTrained += this.stepTokens;
    this.step++;
    const seconds = (performance.now() - this.stepStarted) / 1000;
    return {
      step: step + 1,
      totalSteps: this.totalSteps,
      epoch,
      loss,
      lr,
      gradNorm: maxGradNorm > 0 ? norm : Number.NaN,
      tokens: this.stepTokens,
      tokensPerSecond: this.stepTokens / seconds,
    };
  }

  result(): TrainResult {
    return {
      steps: this.totalSteps,
      losses: this.losses,
      tokensTrained: this.tokensTrained,
      seconds: (performance.now() - this.started) / 1000,
    };
  }
}
