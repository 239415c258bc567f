/**
 * Random weights for a config, the way transformers initialises a fresh model (normal, std = initializer_range
 * 0.02; norms 1). Nothing can download real weights here, so tests and benchmarks build models with this.
 */
import { type ModelConfig, projectionShape, validateConfig } from "../engine/config.js";
import { Rng } from "../engine/random.js";
import type { LayerWeights, ModelWeights } from "../engine/weights.js";

const INITIALIZER_RANGE = 0.02;

/** Same config and seed → same weights. Biases are small but non-zero so bias code paths are exercised. */
export function createRandomModel(config: ModelConfig, seed: number): ModelWeights {
  validateConfig(config);
  const rng = new Rng(seed);
  const normal = (length: number) => rng.fillNormal(new Float32Array(length), INITIALIZER_RANGE);
  const matrix = (shape: [number, number]) => normal(shape[0] * shape[1]);
  const ones = (length: number) => new Float32Array(length).fill(1);
  const d = config.hiddenSize;

  const embedTokens = normal(config.vocabSize * d);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const qShape = projectionShape(config, "q_proj");
    const kvShape = projectionShape(config, "k_proj");
    layers.push({
      inputNorm: ones(d),
      qProj: matrix(qShape),
      kProj: matrix(kvShape),
      vProj: matrix(kvShape),
      oProj: matrix(projectionShape(config, "o_proj")),
      qBias: config.qkvBias ? normal(qShape[0]) : null,
      kBias: config.qkvBias ? normal(kvShape[0]) : null,
      vBias: config.qkvBias ? normal(kvShape[0]) : null,
      oBias: config.oBias ? normal(d) : null,
      postAttentionNorm: ones(d),
      gateProj: matrix(projectionShape(config, "gate_proj")),
      upProj: matrix(projectionShape(config, "up_proj")),
      downProj: matrix(projectionShape(config, "down_proj")),
    });
  }
  return {
    embedTokens,
    layers,
    finalNorm: ones(d),
    lmHead: config.tieWordEmbeddings ? embedTokens : normal(config.vocabSize * d),
  };
}
