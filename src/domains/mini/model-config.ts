/**
 * The SEAL-mini base model's shape: a 4-layer Llama (≈ 3.7 M parameters with the world's ≈ 1.4 k-token vocabulary,
 * embeddings tied), small enough to pretrain on 2 CPU cores in about half an hour and to run hundreds of SEAL inner
 * loops in minutes, large enough to learn the world's prose, closed-book QA and self-edit formats.
 */
import type { ModelConfig } from "../../engine/config.js";

export function miniModelConfig(vocabSize: number, eosTokenId: number): ModelConfig {
  return {
    architecture: "llama",
    vocabSize,
    hiddenSize: 256,
    intermediateSize: 768,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 4,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 1024,
    tieWordEmbeddings: true,
    qkvBias: false,
    oBias: false,
    bosTokenId: null,
    eosTokenIds: [eosTokenId],
  };
}
