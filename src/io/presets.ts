import type { ModelConfig } from "../engine/config.js";

/**
 * Named model shapes. The real ones copy the published `config.json` of each Hugging Face model (used to build
 * random models of the right size, e.g. for benchmarks); the tiny ones keep tests fast.
 */
export const PRESETS: Readonly<Record<string, Readonly<ModelConfig>>> = {
  "tiny-llama": {
    architecture: "llama",
    vocabSize: 256,
    hiddenSize: 64,
    intermediateSize: 128,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 512,
    tieWordEmbeddings: false,
    qkvBias: false,
    oBias: false,
    bosTokenId: 1,
    eosTokenIds: [2],
  },
  "tiny-qwen2": {
    architecture: "qwen2",
    vocabSize: 256,
    hiddenSize: 64,
    intermediateSize: 128,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    rmsNormEps: 1e-6,
    ropeTheta: 1_000_000,
    ropeScaling: null,
    maxPositionEmbeddings: 512,
    tieWordEmbeddings: true,
    qkvBias: true,
    oBias: false,
    bosTokenId: 1,
    eosTokenIds: [2],
  },
  // Qwen/Qwen2.5-0.5B config.json
  "qwen2.5-0.5b": {
    architecture: "qwen2",
    vocabSize: 151936,
    hiddenSize: 896,
    intermediateSize: 4864,
    numLayers: 24,
    numHeads: 14,
    numKvHeads: 2,
    headDim: 64,
    rmsNormEps: 1e-6,
    ropeTheta: 1_000_000,
    ropeScaling: null,
    maxPositionEmbeddings: 32768,
    tieWordEmbeddings: true,
    qkvBias: true,
    oBias: false,
    bosTokenId: 151643,
    eosTokenIds: [151643],
  },
  // Qwen/Qwen2.5-7B config.json
  "qwen2.5-7b": {
    architecture: "qwen2",
    vocabSize: 152064,
    hiddenSize: 3584,
    intermediateSize: 18944,
    numLayers: 28,
    numHeads: 28,
    numKvHeads: 4,
    headDim: 128,
    rmsNormEps: 1e-6,
    ropeTheta: 1_000_000,
    ropeScaling: null,
    maxPositionEmbeddings: 131072,
    tieWordEmbeddings: false,
    qkvBias: true,
    oBias: false,
    bosTokenId: 151643,
    eosTokenIds: [151643],
  },
  // meta-llama/Llama-3.2-1B config.json
  "llama-3.2-1b": {
    architecture: "llama",
    vocabSize: 128256,
    hiddenSize: 2048,
    intermediateSize: 8192,
    numLayers: 16,
    numHeads: 32,
    numKvHeads: 8,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 500000,
    ropeScaling: {
      type: "llama3",
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    },
    maxPositionEmbeddings: 131072,
    tieWordEmbeddings: true,
    qkvBias: false,
    oBias: false,
    bosTokenId: 128000,
    eosTokenIds: [128001],
  },
};

/** A fresh, mutable copy of a preset; unknown names list the known ones. */
export function presetConfig(name: string): ModelConfig {
  if (!Object.hasOwn(PRESETS, name))
    throw new Error(`unknown preset "${name}" (known: ${Object.keys(PRESETS).join(", ")})`);
  return structuredClone(PRESETS[name]) as ModelConfig;
}
