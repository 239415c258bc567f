import assert from "node:assert/strict";
import { test } from "node:test";
import { presetConfig } from "../../src/io/hf-config.js";
import { createRandomModel } from "../../src/io/random-model.js";
import { weightEntries } from "../../src/io/weight-names.js";
import { sameBits } from "./fixtures.js";

test("same seed gives the same weights, another seed different ones", () => {
  const config = presetConfig("tiny-llama");
  const a = weightEntries(config, createRandomModel(config, 1));
  const b = weightEntries(config, createRandomModel(config, 1));
  const c = weightEntries(config, createRandomModel(config, 2));
  for (let i = 0; i < a.length; i++) assert.ok(sameBits(a[i].data, b[i].data), a[i].name);
  assert.equal(a[2].name, "model.layers.0.self_attn.q_proj.weight");
  assert.ok(!sameBits(a[0].data, c[0].data));
  assert.ok(!sameBits(a[2].data, c[2].data));
});

test("matrices are N(0, 0.02²), norms are 1, biases follow the config and are non-zero", () => {
  const config = { ...presetConfig("tiny-qwen2"), vocabSize: 1000 };
  const weights = createRandomModel(config, 7);
  const embed = weights.embedTokens;
  const mean = embed.reduce((s, x) => s + x, 0) / embed.length;
  const std = Math.sqrt(embed.reduce((s, x) => s + (x - mean) ** 2, 0) / embed.length);
  assert.ok(Math.abs(mean) < 0.001, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.02) < 0.0005, `std ${std}`);
  assert.ok(weights.finalNorm.every((x) => x === 1));
  assert.ok(weights.layers[1].postAttentionNorm.every((x) => x === 1));
  assert.equal(weights.layers[0].qBias?.length, 64);
  assert.equal(weights.layers[0].kBias?.length, 32);
  assert.ok(weights.layers[0].vBias!.some((x) => x !== 0));
  assert.equal(weights.layers[0].oBias, null);
  assert.equal(weights.lmHead, weights.embedTokens, "tied embeddings share one array");
  const untied = createRandomModel(presetConfig("tiny-llama"), 7);
  assert.notEqual(untied.lmHead, untied.embedTokens);
  assert.equal(untied.layers[0].qBias, null);
});

test("invalid configs are rejected", () => {
  assert.throws(() => createRandomModel({ ...presetConfig("tiny-llama"), numKvHeads: 3 }, 1), /multiple of numKvHeads/);
});
