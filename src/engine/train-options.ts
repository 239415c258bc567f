/** What a supervised finetuning run takes and reports (shared by single- and multi-adapter training). */
import type { LoraAdapter } from "./lora.js";
import { type AdamWOptions, DEFAULT_ADAMW } from "./optimizer.js";
import type { ScheduleName } from "./schedule.js";

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
