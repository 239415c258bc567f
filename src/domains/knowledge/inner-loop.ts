/**
 * SEAL's inner loop for knowledge incorporation (reference §1.4–1.6): train a fresh LoRA adapter on the training
 * sequences built from one self-edit, then answer the passage's questions closed-book (the passage is not in the
 * prompt) with and without the adapter. Grading is the caller's: this returns the answers.
 *
 * Differences from the reference, on purpose: sequences are not padded to 2048 tokens, so the loss covers only
 * real tokens (the reference trains on up to ~2000 EOS pad tokens per sequence, a quirk of its tokenisation);
 * the base model's answers are computed once per passage and reused, since they do not depend on the self-edit.
 */
import { generate } from "../../engine/generate.js";
import { createLoraAdapter, type LoraAdapter, type LoraConfig } from "../../engine/lora.js";
import type { Model } from "../../engine/model.js";
import { Rng } from "../../engine/random.js";
import { type StepReport, type TrainOptions, trainSft } from "../../engine/train.js";
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

/** Greedy closed-book answers to already-rendered prompts, with whatever adapter the model has attached. */
export function answerPrompts(
  model: Model,
  tokenizer: TextTokenizer,
  prompts: string[],
  settings: Pick<InnerLoopSettings, "maxAnswerTokens" | "answerBatch">,
  stopTokenIds: number[],
): string[] {
  if (prompts.length === 0) return [];
  const generations = generate(
    model,
    prompts.map((p) => tokenizer.encode(p, { addSpecialTokens: true })),
    {
      temperature: 0,
      maxNewTokens: settings.maxAnswerTokens,
      beyondContext: "stop", // as vLLM, the reference's engine, ends a sequence at max_model_len
      stopTokenIds,
      maxBatch: settings.answerBatch,
      decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
    },
  );
  return generations.map((g) => (g.text ?? "").trim());
}

/**
 * Trains a fresh adapter on `sequences` (loss on every token) and answers `questionPrompts` with it.
 * The model's own adapter is restored afterwards; the trained adapter is returned for callers that keep it.
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
  const examples = sequences
    .map((text) => ({
      tokens: tokenizer.encode(text, { addSpecialTokens: settings.addSpecialTokens }),
      lossMask: null,
    }))
    .filter((e) => e.tokens.length >= 2);
  if (examples.length === 0) throw new Error("inner loop: no training sequence has two or more tokens");
  const adapter = createLoraAdapter(model.config, settings.lora, new Rng(seed));
  const epochs = settings.train.epochs ?? 1;
  const losses: number[] = [];
  const trained = trainSft(model, examples, { kind: "lora", adapter }, { ...settings.train, seed }, (report) => {
    losses.push(report.loss);
    onStep?.(report);
    crashPoint("train-step", "inner");
  });
  const perEpoch = losses.length / epochs;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const previous = model.adapter;
  model.adapter = adapter;
  const answerStart = performance.now();
  try {
    const answers = answerPrompts(model, tokenizer, questionPrompts, settings, stopTokenIds);
    return {
      adapter,
      answers,
      firstEpochLoss: mean(losses.slice(0, perEpoch)),
      lastEpochLoss: mean(losses.slice(-perEpoch)),
      trainTokens: trained.tokensTrained,
      trainSeconds: trained.seconds,
      answerSeconds: (performance.now() - answerStart) / 1000,
    };
  } finally {
    model.adapter = previous;
  }
}
