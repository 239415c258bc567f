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

export function validateConfig(config: ModelConfig): void {
  const problems: string[] = [];
  const positive = [
    "vocabSize",
    "hiddenSize",
    "intermediateSize",
    "numLayers",
    "numHeads",
    "numKvHeads",
    "headDim",
  ] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value <= 0) problems.push(`${key} must be a positive integer, got ${value}`);
  }
  if (config.numHeads % config.numKvHeads !== 0)
    problems.push(`numHeads (${config.numHeads}) must be a multiple of numKvHeads (${config.numKvHeads})`);
  if (config.headDim % 2 !== 0) problems.push(`headDim must be even for RoPE, got ${config.headDim}`);
  if (!(config.rmsNormEps > 0)) problems.push(`rmsNormEps must be > 0, got ${config.rmsNormEps}`);
  if (!(config.ropeTheta > 0)) problems.push(`ropeTheta must be > 0, got ${config.ropeTheta}`);
  if (problems.length > 0) throw new Error(`invalid model config: ${problems.join("; ")}`);
}
