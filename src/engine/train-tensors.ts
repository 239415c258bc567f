/** Targets of an example and the tensor lists a training step walks (gradients, parameters). */
import type { SftExample } from "./train-options.js";
import type { ModelWeights } from "./weights.js";

/** Per-row next-token targets for one example (−1 where no loss). */
export function exampleTargets(example: SftExample): Int32Array {
  const n = example.tokens.length;
  const targets = new Int32Array(n).fill(-1);
  for (let i = 0; i + 1 < n; i++) {
    const trained = example.lossMask === null || Boolean(example.lossMask[i + 1]);
    if (trained) targets[i] = example.tokens[i + 1];
  }
  return targets;
}

/** Gradient buffers shaped like the weights (tied embeddings share one buffer, as they share one tensor). */
export function zeroGradientsLike(weights: ModelWeights): ModelWeights {
  const z = (a: Float32Array | null) => (a ? new Float32Array(a.length) : null);
  const embedTokens = new Float32Array(weights.embedTokens.length);
  return {
    embedTokens,
    finalNorm: new Float32Array(weights.finalNorm.length),
    lmHead: weights.lmHead === weights.embedTokens ? embedTokens : new Float32Array(weights.lmHead.length),
    layers: weights.layers.map((layer) => ({
      inputNorm: new Float32Array(layer.inputNorm.length),
      qProj: new Float32Array(layer.qProj.length),
      kProj: new Float32Array(layer.kProj.length),
      vProj: new Float32Array(layer.vProj.length),
      oProj: new Float32Array(layer.oProj.length),
      qBias: z(layer.qBias),
      kBias: z(layer.kBias),
      vBias: z(layer.vBias),
      oBias: z(layer.oBias),
      postAttentionNorm: new Float32Array(layer.postAttentionNorm.length),
      gateProj: new Float32Array(layer.gateProj.length),
      upProj: new Float32Array(layer.upProj.length),
      downProj: new Float32Array(layer.downProj.length),
    })),
  };
}

/** Every distinct tensor of a weights object, in a stable order. */
export function weightTensors(weights: ModelWeights): Float32Array[] {
  const list: Float32Array[] = [weights.embedTokens];
  for (const layer of weights.layers)
    for (const t of [
      layer.inputNorm,
      layer.qProj,
      layer.kProj,
      layer.vProj,
      layer.oProj,
      layer.qBias,
      layer.kBias,
      layer.vBias,
      layer.oBias,
      layer.postAttentionNorm,
      layer.gateProj,
      layer.upProj,
      layer.downProj,
    ])
      if (t) list.push(t);
  list.push(weights.finalNorm);
  if (weights.lmHead !== weights.embedTokens) list.push(weights.lmHead);
  return list;
}
