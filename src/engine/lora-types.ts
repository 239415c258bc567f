import { CONFIG_LIMITS, type Projection } from "./config.js";

/**
 * Largest LoRA rank accepted: every projection has hidden_size as one side, so min(in, out) never exceeds the
 * largest hidden size a config may have, and a rank above it can add no capacity anywhere.
 */
export const MAX_LORA_RANK = CONFIG_LIMITS.hiddenSize;

/** LoRA hyperparameters, named as in PEFT's LoraConfig. */
export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  targets: Projection[];
}

/** One wrapped projection: ΔW = (alpha / rank) · B · A. */
export interface LoraPair {
  /** [rank, in] — PEFT's `lora_A.weight`. */
  a: Float32Array;
  /** [out, rank] — PEFT's `lora_B.weight`. */
  b: Float32Array;
}

/** A full adapter: for every decoder layer, the pairs of the targeted projections. */
export interface LoraAdapter {
  config: LoraConfig;
  layers: Array<Partial<Record<Projection, LoraPair>>>;
}

/**
 * Which adapter serves which rows of a pass: rows [start, start + rows) use `adapter`. A pass may carry several
 * routes on disjoint rows (many adapters over one shared base-model pass).
 */
export interface LoraRoute {
  adapter: LoraAdapter;
  start: number;
  rows: number;
  /** This micro-batch's dropout seed; null disables dropout (inference). */
  dropoutSeed: number | null;
  /** Where a backward accumulates this adapter's gradients; null: not trained in this pass. */
  grad: LoraAdapter | null;
  /**
   * The backward writes `grad` instead of adding to it: the pass holds the first micro-batch of this adapter's
   * optimizer step, so its gradients need no zeroing beforehand (a full pass writes every wrapped projection's).
   */
  gradOverwrite?: boolean;
}
