/** Tiny random models for engine tests, with weights large enough that every path changes the output. */
import type { ModelConfig } from "../../src/engine/config.js";
import { Model } from "../../src/engine/model.js";
import { Rng } from "../../src/engine/random.js";
import { weightTensors } from "../../src/engine/train.js";
import { presetConfig } from "../../src/io/presets.js";
import { createRandomModel } from "../../src/io/random-model.js";

export function tinyConfig(arch: "llama" | "qwen2", overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    ...presetConfig(arch === "llama" ? "tiny-llama" : "tiny-qwen2"),
    vocabSize: 97,
    hiddenSize: 32,
    intermediateSize: 48,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    ...overrides,
  };
}

/** createRandomModel, then every tensor rescaled to std ≈ `std` and norm weights jittered around 1. */
export function tinyModel(config: ModelConfig, seed = 1, std = 0.15): Model {
  const weights = createRandomModel(config, seed);
  const rng = new Rng(seed + 1000);
  const norms = new Set([weights.finalNorm, ...weights.layers.flatMap((l) => [l.inputNorm, l.postAttentionNorm])]);
  for (const t of weightTensors(weights)) {
    if (norms.has(t)) for (let i = 0; i < t.length; i++) t[i] = 1 + 0.3 * rng.normal();
    else for (let i = 0; i < t.length; i++) t[i] = rng.normal() * std;
  }
  return new Model(config, weights);
}

export function randomTokens(rng: Rng, length: number, vocab: number): number[] {
  return Array.from({ length }, () => rng.int(vocab));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
