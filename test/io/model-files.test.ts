import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { ModelConfig } from "../../src/engine/config.js";
import type { ModelWeights } from "../../src/engine/weights.js";
import { bf16BitsToF32, f32ToBf16Bits } from "../../src/io/half-float.js";
import { presetConfig } from "../../src/io/hf-config.js";
import { loadModel, saveModel } from "../../src/io/model-files.js";
import { readSafetensorsHeader, writeSafetensors } from "../../src/io/safetensors.js";
import { parameterCount, weightEntries, weightSlots } from "../../src/io/weight-names.js";
import { randomFloats, sameBits, tempDir } from "./fixtures.js";

/** Weights where every tensor holds different values, so a swapped mapping cannot go unnoticed. */
function distinctWeights(config: ModelConfig, seed: number): ModelWeights {
  let next = seed;
  const tensor = (length: number) => randomFloats(length, next++);
  const d = config.hiddenSize;
  const q = config.numHeads * config.headDim;
  const kv = config.numKvHeads * config.headDim;
  const ff = config.intermediateSize;
  const embedTokens = tensor(config.vocabSize * d);
  return {
    embedTokens,
    layers: Array.from({ length: config.numLayers }, () => ({
      inputNorm: tensor(d),
      qProj: tensor(q * d),
      kProj: tensor(kv * d),
      vProj: tensor(kv * d),
      oProj: tensor(d * q),
      qBias: config.qkvBias ? tensor(q) : null,
      kBias: config.qkvBias ? tensor(kv) : null,
      vBias: config.qkvBias ? tensor(kv) : null,
      oBias: config.oBias ? tensor(d) : null,
      postAttentionNorm: tensor(d),
      gateProj: tensor(ff * d),
      upProj: tensor(ff * d),
      downProj: tensor(d * ff),
    })),
    finalNorm: tensor(d),
    lmHead: config.tieWordEmbeddings ? embedTokens : tensor(config.vocabSize * d),
  };
}

function assertSameWeights(config: ModelConfig, actual: ModelWeights, expected: ModelWeights): void {
  const a = weightEntries(config, actual);
  const b = weightEntries(config, expected);
  assert.deepEqual(
    a.map((entry) => entry.name),
    b.map((entry) => entry.name),
  );
  for (let i = 0; i < a.length; i++) assert.ok(sameBits(a[i].data, b[i].data), `tensor ${a[i].name}`);
}

const llamaWithBiases: ModelConfig = { ...presetConfig("tiny-llama"), qkvBias: true, oBias: true };

test("saveModel → loadModel is exact for untied llama (with biases) and tied qwen2", () => {
  for (const config of [presetConfig("tiny-llama"), llamaWithBiases, presetConfig("tiny-qwen2")]) {
    const dir = path.join(tempDir(), "model");
    const weights = distinctWeights(config, 11);
    saveModel(dir, { config, weights, eosTokenIds: [2, 3] });
    assert.deepEqual(fs.readdirSync(dir).sort(), ["config.json", "generation_config.json", "model.safetensors"]);
    const loaded = loadModel(dir);
    assert.deepEqual(loaded.config, config);
    assertSameWeights(config, loaded.weights, weights);
    assert.deepEqual(loaded.eosTokenIds, [2, 3]);
    if (config.tieWordEmbeddings) {
      assert.equal(loaded.weights.lmHead, loaded.weights.embedTokens);
      assert.equal(readSafetensorsHeader(path.join(dir, "model.safetensors")).tensors.has("lm_head.weight"), false);
    } else {
      assert.notEqual(loaded.weights.lmHead, loaded.weights.embedTokens);
      assert.ok(sameBits(loaded.weights.lmHead, weights.lmHead));
    }
    assert.equal(loaded.weights.layers[0].qBias === null, !config.qkvBias);
    assert.equal(loaded.weights.layers[1].oBias === null, !config.oBias);
  }
});

test("the checkpoint uses Hugging Face tensor names and shapes", () => {
  const config = presetConfig("tiny-qwen2");
  const dir = tempDir();
  saveModel(dir, { config, weights: distinctWeights(config, 1) });
  const header = readSafetensorsHeader(path.join(dir, "model.safetensors"));
  assert.deepEqual(header.metadata, { format: "pt" });
  const expected: Record<string, number[]> = {
    "model.embed_tokens.weight": [256, 64],
    "model.layers.1.input_layernorm.weight": [64],
    "model.layers.1.self_attn.q_proj.weight": [64, 64],
    "model.layers.1.self_attn.q_proj.bias": [64],
    "model.layers.1.self_attn.k_proj.weight": [32, 64],
    "model.layers.1.self_attn.k_proj.bias": [32],
    "model.layers.1.self_attn.v_proj.bias": [32],
    "model.layers.1.self_attn.o_proj.weight": [64, 64],
    "model.layers.1.post_attention_layernorm.weight": [64],
    "model.layers.1.mlp.gate_proj.weight": [128, 64],
    "model.layers.1.mlp.up_proj.weight": [128, 64],
    "model.layers.1.mlp.down_proj.weight": [64, 128],
    "model.norm.weight": [64],
  };
  for (const [name, shape] of Object.entries(expected)) assert.deepEqual(header.tensors.get(name)?.shape, shape, name);
  assert.equal(header.tensors.has("model.layers.0.self_attn.o_proj.bias"), false);
  assert.equal(header.tensors.size, 1 + 2 * 12 + 1);
  assert.equal(
    parameterCount(config),
    [...header.tensors.values()].reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0),
  );
});

test("sharded save loads the same as unsharded; re-saving switches layout cleanly", () => {
  const config = presetConfig("tiny-llama");
  const weights = distinctWeights(config, 5);
  const dir = tempDir();
  saveModel(dir, { config, weights, maxShardBytes: 100_000 });
  const files = fs.readdirSync(dir).sort();
  const shards = files.filter((name) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(name));
  assert.ok(shards.length > 2, `expected several shards, got ${files.join(", ")}`);
  assert.ok(shards.every((name) => name.endsWith(`-of-${String(shards.length).padStart(5, "0")}.safetensors`)));
  assert.equal(files.includes("model.safetensors"), false);
  const index = JSON.parse(fs.readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
  assert.deepEqual(
    Object.keys(index.weight_map).sort(),
    weightSlots(config)
      .map((slot) => slot.name)
      .sort(),
  );
  assert.equal(index.metadata.total_size, parameterCount(config) * 4);
  for (const shard of shards) {
    const size = [...readSafetensorsHeader(path.join(dir, shard)).tensors.values()].reduce(
      (n, t) => n + t.end - t.begin,
      0,
    );
    const largest = Math.max(
      ...[...readSafetensorsHeader(path.join(dir, shard)).tensors.values()].map((t) => t.end - t.begin),
    );
    assert.ok(size <= 100_000 || size === largest, `${shard} holds ${size} bytes`);
  }
  assertSameWeights(config, loadModel(dir).weights, weights);

  saveModel(dir, { config, weights });
  assert.deepEqual(fs.readdirSync(dir).sort(), ["config.json", "generation_config.json", "model.safetensors"]);
  assertSameWeights(config, loadModel(dir).weights, weights);
});

test("BF16 checkpoints load as the bf16-rounded weights", () => {
  const config = presetConfig("tiny-qwen2");
  const weights = distinctWeights(config, 9);
  const dir = tempDir();
  saveModel(dir, { config, weights, dtype: "BF16" });
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).torch_dtype, "bfloat16");
  const loaded = loadModel(dir).weights;
  const original = weights.layers[1].downProj;
  const rounded = loaded.layers[1].downProj;
  for (let i = 0; i < original.length; i += 37) assert.equal(rounded[i], bf16BitsToF32(f32ToBf16Bits(original[i])));
});

test("loadModel reports missing, unexpected and mis-shaped tensors by name", () => {
  const config = presetConfig("tiny-llama");
  const dir = tempDir();
  saveModel(dir, { config, weights: distinctWeights(config, 2) });
  const entries = weightEntries(config, distinctWeights(config, 2));
  const file = path.join(dir, "model.safetensors");

  writeSafetensors(
    file,
    entries.filter((entry) => entry.name !== "model.layers.1.mlp.up_proj.weight"),
  );
  assert.throws(
    () => loadModel(dir),
    /weights do not match config\.json: missing tensors "model\.layers\.1\.mlp\.up_proj\.weight"/,
  );

  writeSafetensors(file, [
    ...entries,
    { name: "model.layers.0.self_attn.extra.weight", shape: [1], data: new Float32Array(1) },
  ]);
  assert.throws(() => loadModel(dir), /unexpected tensors "model\.layers\.0\.self_attn\.extra\.weight"/);

  const reshaped = entries.map((entry) =>
    entry.name === "model.norm.weight" ? { ...entry, shape: [32], data: new Float32Array(32) } : entry,
  );
  writeSafetensors(file, reshaped);
  assert.throws(
    () => loadModel(dir),
    /tensor "model\.norm\.weight" in model\.safetensors has shape \[32\], config\.json implies \[64\]/,
  );

  // Buffers some exports include are ignored.
  writeSafetensors(file, [
    ...entries,
    { name: "model.layers.0.self_attn.rotary_emb.inv_freq", shape: [8], data: new Float32Array(8) },
  ]);
  assert.equal(loadModel(dir).weights.layers.length, 2);
});

test("a folder without weights or with a broken index names the problem", () => {
  const config = presetConfig("tiny-llama");
  const dir = tempDir();
  saveModel(dir, { config, weights: distinctWeights(config, 3) });
  fs.rmSync(path.join(dir, "model.safetensors"));
  assert.throws(() => loadModel(dir), /no model\.safetensors or model\.safetensors\.index\.json/);
  fs.writeFileSync(
    path.join(dir, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: { "model.norm.weight": "../x.safetensors" } }),
  );
  assert.throws(() => loadModel(dir), /index\.json: field "weight_map\.model\.norm\.weight": expected a file name/);
  fs.writeFileSync(
    path.join(dir, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: { "model.norm.weight": "gone.safetensors" } }),
  );
  assert.throws(() => loadModel(dir), /shard gone\.safetensors \(for tensor "model\.norm\.weight"\) does not exist/);
});

test("saveModel refuses weights that do not fit the config", () => {
  const config = presetConfig("tiny-llama");
  const weights = distinctWeights(config, 4);
  weights.layers[0].kProj = new Float32Array(10);
  assert.throws(
    () => saveModel(tempDir(), { config, weights }),
    /weight "model\.layers\.0\.self_attn\.k_proj\.weight" has 10 values, expected \[32, 64\]/,
  );
  const biased = distinctWeights(llamaWithBiases, 4);
  assert.throws(
    () => saveModel(tempDir(), { config, weights: biased }),
    /layer 0 has a q_proj bias but the config has none/,
  );
});

/** A tiny llama folder whose config.json gets `change` applied (the weights stay those of the preset). */
function folderWithConfig(change: Record<string, unknown>): string {
  const config = presetConfig("tiny-llama");
  const dir = tempDir();
  saveModel(dir, { config, weights: distinctWeights(config, 5) });
  const file = path.join(dir, "config.json");
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), ...change }));
  return dir;
}

test("a layer count that contradicts the weights is refused from the headers, before sizing anything by it", () => {
  // 1000 layers pass the config's bounds; the checkpoint holds 2: one problem, not 9000 missing tensors.
  assert.throws(() => loadModel(folderWithConfig({ num_hidden_layers: 1000 })), {
    message: /weights do not match config\.json: config\.json has num_hidden_layers 1000, the weights hold 2 layers$/,
  });
  assert.throws(
    () => loadModel(folderWithConfig({ num_hidden_layers: 1 })),
    /config\.json has num_hidden_layers 1, the weights hold 2 layers$/,
  );
});

test("a wrong size names the file, tensor, expected and found shapes for the first few tensors only", () => {
  const dir = folderWithConfig({ hidden_size: 128, head_dim: 16 });
  const message = (() => {
    try {
      loadModel(dir);
    } catch (error) {
      return (error as Error).message;
    }
    return "";
  })();
  assert.match(
    message,
    /tensor "model\.embed_tokens\.weight" in model\.safetensors has shape \[256, 64\], config\.json implies \[256, 128\]/,
  );
  assert.match(message, /; and \d+ more such tensors$/);
  assert.equal(message.split("; ").length, 9, "8 tensors named, then a count");
});

test("a tensor of a dtype the engine cannot load is reported with the header checks", () => {
  const config = presetConfig("tiny-llama");
  const dir = tempDir();
  saveModel(dir, { config, weights: distinctWeights(config, 6) });
  const file = path.join(dir, "model.safetensors");
  const header = readSafetensorsHeader(file);
  // Relabel model.norm.weight (64 F32 = 256 bytes) as 64 I32: same bytes, a dtype the engine does not load.
  const bytes = fs.readFileSync(file);
  const json = JSON.parse(bytes.subarray(8, header.dataStart).toString("utf8"));
  json["model.norm.weight"].dtype = "I32";
  const text = Buffer.from(JSON.stringify(json).padEnd(header.dataStart - 8, " "));
  fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, 8), text, bytes.subarray(header.dataStart)]));
  assert.throws(
    () => loadModel(dir),
    /weights do not match config\.json: tensor "model\.norm\.weight" in model\.safetensors has dtype I32 \(loadable: F32, F16, BF16\)/,
  );
});

test("generation_config.json token ids outside the vocabulary are refused with the field", () => {
  const dir = folderWithConfig({});
  fs.writeFileSync(path.join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: [2, 9999] }));
  assert.throws(
    () => loadModel(dir),
    /generation_config\.json: field "eos_token_id": token id 9999 is outside the vocabulary \(vocab_size 256: ids 0\.\.255\)/,
  );
  fs.writeFileSync(path.join(dir, "generation_config.json"), JSON.stringify({ pad_token_id: 256 }));
  assert.throws(() => loadModel(dir), /field "pad_token_id": token id 256 is outside the vocabulary/);
});

test("a model.safetensors that is a directory, a link loop or a dangling link is named as what it is", () => {
  const dir = folderWithConfig({});
  const file = path.join(dir, "model.safetensors");
  fs.rmSync(file);
  fs.mkdirSync(file);
  assert.throws(() => loadModel(dir), { message: `${file}: is a directory, not a file` });
  fs.rmdirSync(file);
  fs.symlinkSync("model.safetensors", file);
  assert.throws(() => loadModel(dir), {
    message: `${file}: is a symbolic link (to model.safetensors) that loops back on itself`,
  });
  fs.rmSync(file);
  fs.symlinkSync("elsewhere.safetensors", file);
  assert.throws(() => loadModel(dir), {
    message: `${file}: is a symbolic link to elsewhere.safetensors, which does not exist`,
  });
  // An optional file is not taken for absent when something unreadable sits under its name.
  const generationConfig = path.join(dir, "generation_config.json");
  fs.rmSync(generationConfig);
  fs.symlinkSync("generation_config.json", generationConfig);
  assert.throws(() => loadModel(dir), {
    message: `${generationConfig}: is a symbolic link (to generation_config.json) that loops back on itself`,
  });
  const configFile = path.join(dir, "config.json");
  fs.rmSync(configFile);
  fs.mkdirSync(configFile);
  assert.throws(() => loadModel(dir), { message: `${configFile}: is a directory, not a file` });
});

test("saveModel refuses NaN or infinite weights, naming the tensor, and writes nothing", () => {
  const config = presetConfig("tiny-llama");
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    const weights = distinctWeights(config, 5);
    weights.layers[1].vProj[7] = bad;
    const dir = path.join(tempDir(), "out");
    assert.throws(
      () => saveModel(dir, { config, weights }),
      new RegExp(`tensor "model\\.layers\\.1\\.self_attn\\.v_proj\\.weight" holds ${bad} at index 7; refusing`),
    );
    assert.ok(!fs.existsSync(dir), "nothing was written");
  }
});
