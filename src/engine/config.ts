/**
 * The decoder configuration the engine understands, independent of any file format.
 * `io/hf-config.ts` maps Hugging Face `config.json` onto this (and back).
 */

/** RoPE frequency scaling. `llama3` follows transformers' `_compute_llama3_parameters`. */
export type RopeScaling =
  | {
      type: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    }
  | { type: "linear"; factor: number };

export type Architecture = "llama" | "qwen2";

export interface ModelConfig {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Bias on q_proj, k_proj, v_proj (Qwen2 always; Llama when `attention_bias`). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama `attention_bias` only; Qwen2 never). */
  oBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

/** Names of the seven projections LoRA may wrap, as PEFT spells them. */
export const PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type Projection = (typeof PROJECTIONS)[number];

/** [out, in] shape of a projection's weight (row-major, as stored by PyTorch's nn.Linear). */
export function projectionShape(config: ModelConfig, name: Projection): [number, number] {
  const { hiddenSize: d, intermediateSize: ff, numHeads, numKvHeads, headDim } = config;
  switch (name) {
    case "q_proj":
      return [numHeads * headDim, d];
    case "k_proj":
    case "v_proj":
      return [numKvHeads * headDim, d];
    case "o_proj":
      return [d, numHeads * headDim];
    case "gate_proj":
    case "up_proj":
      return [ff, d];
    case "down_proj":
      return [d, ff];
  }
}

/**
 * Upper bounds on the config's sizes: far above any released Llama/Qwen2 model (at most 126 layers, hidden 16384,
 * vocab 262144, head_dim 256), low enough that an absurd config.json (`num_hidden_layers: 1e9`) is refused
 * before anything is sized from it. Positions are int32 in the native kernels.
 */
export const CONFIG_LIMITS = {
  vocabSize: 16_777_216,
  hiddenSize: 65_536,
  intermediateSize: 1_048_576,
  numLayers: 1024,
  numHeads: 1024,
  numKvHeads: 1024,
  headDim: 1024,
  maxPositionEmbeddings: 2_147_483_647,
} as const;

/** RoPE bases of released models lie between 1e4 and about 1e10 (long-context Llama variants). */
export const MAX_ROPE_THETA = 1e12;

export function validateConfig(config: ModelConfig): void {
  const problems: string[] = [];
  for (const [key, max] of Object.entries(CONFIG_LIMITS) as [keyof typeof CONFIG_LIMITS, number][]) {
    const value = config[key];
    if (!Number.isInteger(value) || value <= 0 || value > max)
      problems.push(`${key} must be an integer in [1, ${max}], got ${value}`);
  }
  if (config.numHeads % config.numKvHeads !== 0)
    problems.push(`numHeads (${config.numHeads}) must be a multiple of numKvHeads (${config.numKvHeads})`);
  if (config.headDim % 2 !== 0) problems.push(`headDim must be even for RoPE, got ${config.headDim}`);
  if (!(config.rmsNormEps > 0 && config.rmsNormEps < 1))
    problems.push(`rmsNormEps must be in (0, 1), got ${config.rmsNormEps}`);
  if (!(config.ropeTheta > 0 && config.ropeTheta <= MAX_ROPE_THETA))
    problems.push(`ropeTheta must be in (0, ${MAX_ROPE_THETA}], got ${config.ropeTheta}`);
  const scaling = config.ropeScaling;
  if (scaling !== null && !(Number.isFinite(scaling.factor) && scaling.factor > 0))
    problems.push(`ropeScaling.factor must be a positive finite number, got ${scaling.factor}`);
  if (scaling?.type === "llama3" && !(scaling.highFreqFactor > scaling.lowFreqFactor))
    problems.push(
      `ropeScaling.highFreqFactor (${scaling.highFreqFactor}) must exceed lowFreqFactor (${scaling.lowFreqFactor})`,
    );
  if (problems.length > 0) throw new Error(`invalid model config: ${problems.join("; ")}`);
}
