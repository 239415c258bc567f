import type { Projection } from "./config.js";

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
