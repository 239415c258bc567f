/**
 * The inner-loop part of the knowledge commands' configurations (`knowledge evaluate`, `cpt`, `continual`): the LoRA,
 * its training, how self-edits become sequences, closed-book answering and grading. Each command's config extends
 * `InnerLoopConfig` (the fields sit at the top level of the config stored in run.json) and starts from
 * `defaultInnerLoopConfig`, overriding what its reference settings differ in.
 */
import type { LoraConfig } from "../../engine/lora-types.js";
import type { ScheduleName } from "../../engine/schedule.js";
import { type InnerLoopSettings, REFERENCE_INNER_LOOP } from "./inner-loop.js";

export type GraderConfig = { kind: "local" } | { kind: "judge"; model: string; baseUrl: string };

/** The training of one inner-loop adapter. */
export interface InnerLoopTrainConfig {
  epochs: number;
  lr: number;
  batchSize: number;
  gradientAccumulation: number;
  schedule: ScheduleName;
  warmupSteps: number;
  maxGradNorm: number;
  weightDecay: number;
}

export interface InnerLoopConfig {
  lora: LoraConfig;
  train: InnerLoopTrainConfig;
  /** One training sequence per self-edit line (else one per ---separated piece). */
  splitNewlines: boolean;
  maxAnswerTokens: number;
  answerBatch: number;
  grader: GraderConfig;
  seed: number;
}

/**
 * The reference's inner loop (§1.4–1.6: r32/α64 on q/v, 10 epochs, lr 1e-3, batch 1, linear decay, clip 1, lines
 * split, 64 answer tokens, local grading, seed 0), with `train` fields and `splitNewlines` overridable.
 */
export function defaultInnerLoopConfig(
  overrides: { train?: Partial<InnerLoopTrainConfig>; splitNewlines?: boolean } = {},
): InnerLoopConfig {
  const train = REFERENCE_INNER_LOOP.train;
  return {
    lora: { ...REFERENCE_INNER_LOOP.lora, targets: [...REFERENCE_INNER_LOOP.lora.targets] },
    train: {
      epochs: train.epochs ?? 10,
      lr: train.lr ?? 1e-3,
      batchSize: train.batchSize ?? 1,
      gradientAccumulation: train.gradientAccumulation ?? 1,
      schedule: train.schedule ?? "linear",
      warmupSteps: train.warmupSteps ?? 0,
      maxGradNorm: train.maxGradNorm ?? 1,
      weightDecay: train.weightDecay ?? 0,
      ...overrides.train,
    },
    splitNewlines: overrides.splitNewlines ?? true,
    maxAnswerTokens: REFERENCE_INNER_LOOP.maxAnswerTokens,
    answerBatch: REFERENCE_INNER_LOOP.answerBatch,
    grader: { kind: "local" },
    seed: 0,
  };
}

/** What `runInnerLoop` / `answerPrompts` take, from a config (no warmup; special tokens as the reference). */
export function innerLoopSettingsOf(config: InnerLoopConfig): InnerLoopSettings {
  return {
    lora: config.lora,
    train: { ...config.train, warmupRatio: 0 },
    maxAnswerTokens: config.maxAnswerTokens,
    answerBatch: config.answerBatch,
    addSpecialTokens: REFERENCE_INNER_LOOP.addSpecialTokens,
  };
}
