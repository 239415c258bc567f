import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { ModelConfig } from "../../src/engine/config.js";
import { PRESETS, parseHfConfig, presetConfig, readModelConfig, toHfConfigJson } from "../../src/io/hf-config.js";
import { tempDir } from "./fixtures.js";

/** Qwen/Qwen2.5-0.5B config.json as published. */
const QWEN25_05B = {
  architectures: ["Qwen2ForCausalLM"],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: "silu",
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: "qwen2",
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  transformers_version: "4.40.1",
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

/** meta-llama/Llama-3.2-1B config.json as published. */
const LLAMA32_1B = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: 128001,
  head_dim: 64,
  hidden_act: "silu",
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: "llama3",
  },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  transformers_version: "4.45.0.dev0",
  use_cache: true,
  vocab_size: 128256,
};

test("published configs parse to the presets", () => {
  assert.deepEqual(parseHfConfig(QWEN25_05B), PRESETS["qwen2.5-0.5b"]);
  assert.deepEqual(parseHfConfig(LLAMA32_1B), PRESETS["llama-3.2-1b"]);
});

test("every preset round-trips through toHfConfigJson → parseHfConfig", () => {
  for (const [name, preset] of Object.entries(PRESETS)) {
    const json = toHfConfigJson(preset);
    assert.deepEqual(parseHfConfig(JSON.parse(JSON.stringify(json)), name), preset, name);
  }
});

test("llama with attention biases, linear RoPE scaling and several eos ids round-trips", () => {
  const config: ModelConfig = {
    ...presetConfig("tiny-llama"),
    qkvBias: true,
    oBias: true,
    ropeScaling: { type: "linear", factor: 4 },
    eosTokenIds: [2, 5],
    bosTokenId: null,
  };
  const json = toHfConfigJson(config, { torchDtype: "bfloat16" });
  assert.equal(json.attention_bias, true);
  assert.equal(json.torch_dtype, "bfloat16");
  assert.deepEqual(json.rope_scaling, { rope_type: "linear", factor: 4 });
  assert.deepEqual(json.eos_token_id, [2, 5]);
  assert.deepEqual(parseHfConfig(json), config);
});

test("toHfConfigJson writes what transformers expects for each architecture", () => {
  const qwen = toHfConfigJson(PRESETS["qwen2.5-0.5b"]);
  assert.deepEqual(qwen.architectures, ["Qwen2ForCausalLM"]);
  assert.equal(qwen.model_type, "qwen2");
  assert.equal(qwen.use_sliding_window, false);
  assert.equal(qwen.tie_word_embeddings, true);
  assert.equal(qwen.eos_token_id, 151643);
  assert.equal("attention_bias" in qwen, false);
  const llama = toHfConfigJson(PRESETS["llama-3.2-1b"]);
  assert.deepEqual(llama.architectures, ["LlamaForCausalLM"]);
  assert.deepEqual(llama.rope_scaling, LLAMA32_1B.rope_scaling);
  assert.equal(llama.mlp_bias, false);
  assert.deepEqual(Object.keys(llama), Object.keys(llama).sort());
  assert.throws(() => toHfConfigJson({ ...PRESETS["tiny-qwen2"], oBias: true }), /Qwen2/);
  assert.throws(() => toHfConfigJson({ ...PRESETS["tiny-llama"], qkvBias: true }), /attention_bias/);
});

test("defaults follow transformers when fields are absent", () => {
  const minimal = {
    model_type: "llama",
    vocab_size: 100,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
  };
  const config = parseHfConfig(minimal);
  assert.equal(config.architecture, "llama");
  assert.equal(config.numKvHeads, 4);
  assert.equal(config.headDim, 16);
  assert.equal(config.ropeTheta, 10000);
  assert.equal(config.ropeScaling, null);
  assert.equal(config.tieWordEmbeddings, false);
  assert.equal(config.qkvBias, false);
  assert.equal(config.maxPositionEmbeddings, 2048);
  assert.deepEqual(config.eosTokenIds, []);
  const qwen = parseHfConfig({ ...minimal, model_type: "qwen2" });
  assert.equal(qwen.architecture, "qwen2");
  assert.equal(qwen.qkvBias, true);
  assert.equal(qwen.oBias, false);
  assert.equal(qwen.maxPositionEmbeddings, 32768);
});

test("rope scaling variants: default means none, legacy 'type' key, rope_parameters, unsupported kinds", () => {
  const base = { ...LLAMA32_1B } as Record<string, unknown>;
  assert.equal(parseHfConfig({ ...base, rope_scaling: { type: "default" } }).ropeScaling, null);
  const legacy = { ...LLAMA32_1B.rope_scaling, rope_type: undefined, type: "llama3" };
  assert.deepEqual(parseHfConfig({ ...base, rope_scaling: legacy }).ropeScaling, PRESETS["llama-3.2-1b"].ropeScaling);
  const modern = {
    ...base,
    rope_scaling: undefined,
    rope_theta: undefined,
    rope_parameters: { ...LLAMA32_1B.rope_scaling, rope_theta: 500000 },
  };
  assert.deepEqual(parseHfConfig(modern), PRESETS["llama-3.2-1b"]);
  assert.throws(
    () => parseHfConfig({ ...base, rope_scaling: { type: "yarn", factor: 4 } }, "x/config.json"),
    /x\/config\.json: field "rope_scaling": unsupported rope_scaling type yarn/,
  );
  assert.throws(
    () => parseHfConfig({ ...base, rope_scaling: { rope_type: "llama3", factor: 8 } }, "c.json"),
    /c\.json: field "rope_scaling\.low_freq_factor" is required for llama3 RoPE/,
  );
});

test("invalid configs are rejected with the file and field named", () => {
  assert.throws(
    () => parseHfConfig({ ...QWEN25_05B, architectures: ["MistralForCausalLM"] }, "m/config.json"),
    /m\/config\.json: field "architectures": unsupported architecture "MistralForCausalLM" \(supported: LlamaForCausalLM, Qwen2ForCausalLM/,
  );
  const { architectures: _a, model_type: _m, ...anonymous } = QWEN25_05B;
  assert.throws(() => parseHfConfig(anonymous, "a.json"), /a\.json: cannot tell the architecture/);
  const { hidden_size: _h, ...noHidden } = QWEN25_05B;
  assert.throws(() => parseHfConfig(noHidden, "h.json"), /h\.json: field "hidden_size"/);
  assert.throws(() => parseHfConfig({ ...QWEN25_05B, vocab_size: -3 }, "v.json"), /v\.json: field "vocab_size"/);
  assert.throws(
    () => parseHfConfig({ ...LLAMA32_1B, mlp_bias: true }),
    /field "mlp_bias": MLP biases are not supported/,
  );
  assert.throws(() => parseHfConfig({ ...LLAMA32_1B, hidden_act: "gelu" }), /unsupported activation "gelu"/);
  assert.throws(() => parseHfConfig({ ...QWEN25_05B, use_sliding_window: true }), /sliding-window/);
  assert.throws(() => parseHfConfig({ ...QWEN25_05B, eos_token_id: "x" }, "e.json"), /e\.json: field "eos_token_id"/);
  assert.throws(
    () => parseHfConfig({ ...QWEN25_05B, num_key_value_heads: 3 }, "k.json"),
    /k\.json: .*multiple of numKvHeads/,
  );
});

test("readModelConfig reads <dir>/config.json and names it in errors", () => {
  const dir = tempDir();
  assert.throws(() => readModelConfig(dir), /config\.json: cannot read \(ENOENT\)/);
  fs.writeFileSync(path.join(dir, "config.json"), "{ oops");
  assert.throws(() => readModelConfig(dir), new RegExp(`${dir}/config\\.json: not valid JSON`));
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(LLAMA32_1B));
  assert.deepEqual(readModelConfig(dir), PRESETS["llama-3.2-1b"]);
});

test("presetConfig returns independent copies and rejects unknown names", () => {
  const copy = presetConfig("tiny-llama");
  copy.numLayers = 99;
  assert.equal(PRESETS["tiny-llama"].numLayers, 2);
  assert.throws(() => presetConfig("constructor"), /unknown preset "constructor" \(known: tiny-llama/);
});

test("absurd sizes, norm epsilon, RoPE base and out-of-vocabulary token ids are refused with the field and range", () => {
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ num_hidden_layers: 1e9 }, /field "num_hidden_layers": expected an integer in \[1, 1024\]/],
    [{ hidden_size: 1e9 }, /field "hidden_size": expected an integer in \[1, 65536\]/],
    [{ vocab_size: 1e12 }, /field "vocab_size": expected an integer in \[1, 16777216\]/],
    [{ intermediate_size: 2.5 }, /field "intermediate_size": expected an integer in \[1, 1048576\]/],
    [{ max_position_embeddings: 1e10 }, /field "max_position_embeddings": expected an integer in \[1, 2147483647\]/],
    [{ rms_norm_eps: 1e308 }, /field "rms_norm_eps": expected a number in \(0, 1\)/],
    [{ rms_norm_eps: 0 }, /field "rms_norm_eps": expected a number in \(0, 1\)/],
    [{ rope_theta: 1e308 }, /field "rope_theta": expected a number in \(0, 1e\+12\]/],
    [
      { eos_token_id: 151936 },
      /field "eos_token_id": token id 151936 is outside the vocabulary \(vocab_size 151936: ids 0\.\.151935\)/,
    ],
    [{ eos_token_id: [151643, 200000] }, /field "eos_token_id": token id 200000 is outside the vocabulary/],
    [{ bos_token_id: 999999 }, /field "bos_token_id": token id 999999 is outside the vocabulary/],
  ];
  for (const [change, message] of refused)
    assert.throws(() => parseHfConfig({ ...QWEN25_05B, ...change }, "q/config.json"), {
      message: new RegExp(`^q/config\\.json: ${message.source}`),
    });
  const sameFactors = { ...LLAMA32_1B.rope_scaling, high_freq_factor: 1, low_freq_factor: 1 };
  assert.throws(
    () => parseHfConfig({ ...LLAMA32_1B, rope_scaling: sameFactors }),
    /ropeScaling\.highFreqFactor \(1\) must exceed lowFreqFactor \(1\)/,
  );
  // The largest published values still parse.
  assert.equal(parseHfConfig({ ...LLAMA32_1B, rope_theta: 1e10 }).ropeTheta, 1e10);
});
