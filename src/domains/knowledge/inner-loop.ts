/**
 * SEAL's inner loop for knowledge incorporation (reference §1.4–1.6): train a fresh LoRA adapter on the training
 * sequences built from one self-edit, then answer the passage's questions closed-book (the passage is not in the
 * prompt) with and without the adapter. Grading is the caller's: this returns the answers.
 *
 * Differences from the reference, on purpose: sequences are not padded to 2048 tokens, so the loss covers only
 * real tokens (the reference trains on up to ~2000 EOS pad tokens per sequence, a quirk of its tokenisation);
 * the base model's answers are computed once per passage and reused, since they do not depend on the self-edit.
 */
import type { TrainingDivergedError } from "../../engine/divergence.js";
import { generate } from "../../engine/generate.js";
import { createLoraAdapter, type LoraAdapter, type LoraConfig } from "../../engine/lora.js";
import type { Model } from "../../engine/model.js";
import { Rng } from "../../engine/random.js";
import type { StepReport, TrainOptions } from "../../engine/train.js";
import { trainMany } from "../../engine/train-many.js";
import { crashPoint } from "../../io/crash-point.js";
import type { TextTokenizer } from "../../io/tokenizer.js";

export interface InnerLoopSettings {
  lora: LoraConfig;
  train: Partial<TrainOptions>;
  /** Tokens generated per answer (reference: 64, greedy). */
  maxAnswerTokens: number;
  /** Sequences decoded together when answering. */
  answerBatch: number;
  /** Add the tokenizer's special tokens (BOS) to training sequences; Qwen adds none either way. */
  addSpecialTokens: boolean;
}

/** The reference's settings: r=32, α=64, q/v, dropout 0, 10 epochs, lr 1e-3, batch 1, linear decay, clip 1. */
export const REFERENCE_INNER_LOOP: Readonly<InnerLoopSettings> = {
  lora: { rank: 32, alpha: 64, dropout: 0, targets: ["q_proj", "v_proj"] },
  train: {
    epochs: 10,
    lr: 1e-3,
    batchSize: 1,
    gradientAccumulation: 1,
    schedule: "linear",
    warmupSteps: 0,
    maxGradNorm: 1,
    weightDecay: 0,
  },
  maxAnswerTokens: 64,
  answerBatch: 16,
  addSpecialTokens: false,
};

export interface InnerLoopResult {
  answers: string[];
  /** Mean training loss of the first and the last epoch (nats/token). */
  firstEpochLoss: number;
  lastEpochLoss: number;
  trainTokens: number;
  trainSeconds: number;
  answerSeconds: number;
}

/**
 * Greedy closed-book answers to already-rendered prompts, with whatever adapter the model has attached, or with
 * `adapters[i]` for prompt i (many adapters decoded in one batch).
 */
export function answerPrompts(
  model: Model,
  tokenizer: TextTokenizer,
  prompts: string[],
  settings: Pick<InnerLoopSettings, "maxAnswerTokens" | "answerBatch">,
  stopTokenIds: number[],
  adapters: (LoraAdapter | null)[] | null = null,
): string[] {
  if (prompts.length === 0) return [];
  const distinct = adapters ? new Set(adapters).size : 1;
  const generations = generate(
    model,
    prompts.map((p) => tokenizer.encode(p, { addSpecialTokens: true })),
    {
      temperature: 0,
      maxNewTokens: settings.maxAnswerTokens,
      beyondContext: "stop", // as vLLM, the reference's engine, ends a sequence at max_model_len
      stopTokenIds,
      // each adapter keeps the batch it would have alone: the KV cache grows with the adapters answered together
      maxBatch: settings.answerBatch * distinct,
      decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      adapters,
    },
  );
  return generations.map((g) => (g.text ?? "").trim());
}

/** One inner loop: the training sequences of a self-edit, the questions to answer after, and its seed. */
export interface InnerLoopUnit {
  sequences: string[];
  questionPrompts: string[];
  seed: number;
}

export type InnerLoopOutcome =
  | { ok: true; result: InnerLoopResult & { adapter: LoraAdapter }; stepLosses: number[] }
  | { ok: false; error: TrainingDivergedError; stepLosses: number[]; trainSeconds: number };

/**
 * Runs several inner loops at once: their fresh adapters train together over one pass of the base model per step
 * (trainMany: each exactly as if alone, up to float rounding), then every unit's questions are answered in one
 * decode batch, each with its own adapter. A unit whose training diverges comes back as { ok: false } and the
 * others go on. Seconds are the group's, shared equally among its units.
 */
export function runInnerLoops(
  model: Model,
  tokenizer: TextTokenizer,
  units: InnerLoopUnit[],
  settings: InnerLoopSettings,
  stopTokenIds: number[],
  onStep?: (unit: number, report: StepReport) => void,
): InnerLoopOutcome[] {
  const jobs = units.map((unit) => {
    const examples = unit.sequences
      .map((text) => ({
        tokens: tokenizer.encode(text, { addSpecialTokens: settings.addSpecialTokens }),
        lossMask: null,
      }))
      .filter((e) => e.tokens.length >= 2);
    if (examples.length === 0) throw new Error("inner loop: no training sequence has two or more tokens");
    const adapter = createLoraAdapter(model.config, settings.lora, new Rng(unit.seed));
    return { examples, adapter, options: { ...settings.train, seed: unit.seed } };
  });
  const losses: number[][] = units.map(() => []);
  const trainStart = performance.now();
  const outcomes = trainMany(model, jobs, {}, (unit, report) => {
    losses[unit].push(report.loss);
    onStep?.(unit, report);
    crashPoint("train-step", "inner");
  });
  const trainSeconds = (performance.now() - trainStart) / 1000 / units.length;
  const answered = outcomes.flatMap((outcome, i) => (outcome.ok ? [i] : []));
  const answerStart = performance.now();
  const prompts = answered.flatMap((i) => units[i].questionPrompts);
  const adapters = answered.flatMap((i) => units[i].questionPrompts.map(() => jobs[i].adapter));
  const answers = answerPrompts(model, tokenizer, prompts, settings, stopTokenIds, adapters);
  const answerSeconds = (performance.now() - answerStart) / 1000 / Math.max(1, answered.length);
  const epochs = settings.train.epochs ?? 1;
  const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / Math.max(1, xs.length);
  let next = 0;
  return units.map((unit, i) => {
    const outcome = outcomes[i];
    if (!outcome.ok) return { ok: false, error: outcome.error, stepLosses: losses[i], trainSeconds };
    const mine = answers.slice(next, next + unit.questionPrompts.length);
    next += unit.questionPrompts.length;
    const perEpoch = losses[i].length / epochs;
    return {
      ok: true,
      stepLosses: losses[i],
      result: {
        adapter: jobs[i].adapter,
        answers: mine,
        firstEpochLoss: mean(losses[i].slice(0, perEpoch)),
        lastEpochLoss: mean(losses[i].slice(-perEpoch)),
        trainTokens: outcome.result.tokensTrained,
        trainSeconds,
        answerSeconds,
      },
    };
  });
}

/**
 * Trains a fresh adapter on `sequences` (loss on every token) and answers `questionPrompts` with it; throws
 * TrainingDivergedError when training diverges. The trained adapter is returned for callers that keep it.
 */
export function runInnerLoop(
  model: Model,
  tokenizer: TextTokenizer,
  sequences: string[],
  questionPrompts: string[],
  settings: InnerLoopSettings,
  stopTokenIds: number[],
  seed: number,
  onStep?: (report: StepReport) => void,
): InnerLoopResult & { adapter: LoraAdapter } {
  const [outcome] = runInnerLoops(
    model,
    tokenizer,
    [{ sequences, questionPrompts, seed }],
    settings,
    stopTokenIds,
    onStep && ((_, report) => onStep(report)),
  );
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}
