import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { type ModelConfig, type Projection, projectionShape } from "../../src/engine/config.js";
import type { LoraAdapter } from "../../src/engine/lora-types.js";
import { presetConfig } from "../../src/io/hf-config.js";
import { loadAdapter, saveAdapter } from "../../src/io/peft.js";
import { readSafetensorsHeader, writeSafetensors } from "../../src/io/safetensors.js";
import { randomFloats, sameBits, tempDir } from "./fixtures.js";

function makeAdapter(config: ModelConfig, targets: Projection[], rank: number, layers?: number[]): LoraAdapter {
  let seed = 100;
  return {
    config: { rank, alpha: 16, dropout: 0.05, targets },
    layers: Array.from({ length: config.numLayers }, (_, layer) => {
      if (layers !== undefined && !layers.includes(layer)) return {};
      const pairs: LoraAdapter["layers"][number] = {};
      for (const target of targets) {
        const [outFeatures, inFeatures] = projectionShape(config, target);
        pairs[target] = { a: randomFloats(rank * inFeatures, seed++), b: randomFloats(outFeatures * rank, seed++) };
      }
      return pairs;
    }),
  };
}

function readConfig(dir: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(dir, "adapter_config.json"), "utf8"));
}

function writeConfig(dir: string, patch: Record<string, unknown>): void {
  fs.writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify({ ...readConfig(dir), ...patch }));
}

const config = presetConfig("tiny-qwen2");

test("saveAdapter writes PEFT's names, shapes and adapter_config.json", () => {
  const dir = tempDir();
  saveAdapter(dir, makeAdapter(config, ["q_proj", "v_proj", "down_proj"], 4), { baseModel: "Qwen/Qwen2.5-0.5B" });
  const header = readSafetensorsHeader(path.join(dir, "adapter_model.safetensors"));
  assert.deepEqual(header.metadata, { format: "pt" });
  const shapes = Object.fromEntries([...header.tensors].map(([name, info]) => [name, info.shape]));
  assert.deepEqual(shapes, {
    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": [4, 64],
    "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": [64, 4],
    "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight": [4, 64],
    "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight": [32, 4],
    "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight": [4, 128],
    "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight": [64, 4],
    "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight": [4, 64],
    "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight": [64, 4],
    "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight": [4, 64],
    "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight": [32, 4],
    "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight": [4, 128],
    "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight": [64, 4],
  });
  const json = readConfig(dir);
  assert.equal(json.peft_type, "LORA");
  assert.equal(json.task_type, "CAUSAL_LM");
  assert.equal(json.r, 4);
  assert.equal(json.lora_alpha, 16);
  assert.equal(json.lora_dropout, 0.05);
  assert.deepEqual(json.target_modules, ["q_proj", "v_proj", "down_proj"]);
  assert.equal(json.bias, "none");
  assert.equal(json.fan_in_fan_out, false);
  assert.equal(json.use_rslora, false);
  assert.equal(json.modules_to_save, null);
  assert.equal(json.layers_to_transform, null);
  assert.equal(json.base_model_name_or_path, "Qwen/Qwen2.5-0.5B");
});

test("saveAdapter → loadAdapter round-trips exactly, also for a subset of layers", () => {
  for (const layers of [undefined, [1]]) {
    const dir = tempDir();
    const adapter = makeAdapter(config, ["k_proj", "o_proj", "gate_proj", "up_proj"], 2, layers);
    saveAdapter(dir, adapter);
    const loaded = loadAdapter(dir, config);
    assert.deepEqual(loaded.config, adapter.config);
    assert.equal(loaded.layers.length, config.numLayers);
    if (layers !== undefined) {
      assert.deepEqual(readConfig(dir).layers_to_transform, [1]);
      assert.deepEqual(loaded.layers[0], {});
    }
    adapter.layers.forEach((pairs, layer) => {
      for (const [projection, pair] of Object.entries(pairs)) {
        const got = loaded.layers[layer][projection as Projection];
        assert.ok(got !== undefined, `layer ${layer} ${projection}`);
        assert.ok(sameBits(got.a, pair.a) && sameBits(got.b, pair.b), `layer ${layer} ${projection}`);
      }
    });
  }
});

test("PEFT options that change the math are rejected with the field named", () => {
  const dir = tempDir();
  saveAdapter(dir, makeAdapter(config, ["q_proj", "v_proj"], 4));
  const original = readConfig(dir);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ use_rslora: true }, /adapter_config\.json: field "use_rslora": expected false \(rank-stabilised LoRA/],
    [{ use_dora: true }, /field "use_dora"/],
    [{ bias: "all" }, /field "bias"/],
    [{ fan_in_fan_out: true }, /field "fan_in_fan_out"/],
    [{ modules_to_save: ["lm_head"] }, /field "modules_to_save": modules_to_save is not supported/],
    [{ rank_pattern: { q_proj: 8 } }, /field "rank_pattern"/],
    [{ peft_type: "IA3" }, /field "peft_type": expected "LORA"/],
    [{ target_modules: ["q_proj", "lm_head"] }, /field "target_modules": unsupported module "lm_head"/],
    [{ r: 8 }, /shape \[4, 64\], expected \[8, 64\]/],
  ];
  for (const [patch, pattern] of cases) {
    fs.writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify({ ...original, ...patch }));
    assert.throws(() => loadAdapter(dir, config), pattern, JSON.stringify(patch));
  }
  // PEFT matches targets by suffix, so a dotted name is fine.
  writeConfig(dir, { ...original, target_modules: ["self_attn.q_proj", "v_proj"] });
  assert.deepEqual(loadAdapter(dir, config).config.targets, ["q_proj", "v_proj"]);
});

test("adapter tensors are checked against names, partners, layers and the model's shapes", () => {
  const dir = tempDir();
  saveAdapter(dir, makeAdapter(config, ["q_proj"], 2));
  const file = path.join(dir, "adapter_model.safetensors");
  const a = (layer: number, module = "self_attn.q_proj") => ({
    name: `base_model.model.model.layers.${layer}.${module}.lora_A.weight`,
    shape: [2, 64],
    data: new Float32Array(128),
  });
  const b = (layer: number, out = 64) => ({
    name: `base_model.model.model.layers.${layer}.self_attn.q_proj.lora_B.weight`,
    shape: [out, 2],
    data: new Float32Array(out * 2),
  });

  writeSafetensors(file, [a(0)]);
  assert.throws(
    () => loadAdapter(dir, config),
    /lora_A\.weight" has no matching ".*layers\.0\.self_attn\.q_proj\.lora_B\.weight"/,
  );
  writeSafetensors(file, [
    a(0),
    b(0),
    { ...a(0), name: "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight" },
  ]);
  assert.throws(() => loadAdapter(dir, config), /unknown tensor ".*lora_A\.default\.weight"/);
  writeSafetensors(file, [a(0, "mlp.q_proj"), b(0)]);
  assert.throws(() => loadAdapter(dir, config), /unknown tensor ".*mlp\.q_proj\.lora_A\.weight"/);
  writeSafetensors(file, [a(5), b(5)]);
  assert.throws(() => loadAdapter(dir, config), /is for layer 5 but the model has 2 layers/);
  writeSafetensors(file, [a(0), b(0, 32)]);
  assert.throws(() => loadAdapter(dir, config), /lora_B\.weight" has shape \[32, 2\], expected \[64, 2\]/);
  writeSafetensors(file, [a(0), b(0), a(1, "self_attn.k_proj")]);
  assert.throws(() => loadAdapter(dir, config), /adapts k_proj, which target_modules does not list/);
  writeSafetensors(file, [a(0), b(0)]);
  assert.ok(loadAdapter(dir, config).layers[0].q_proj !== undefined);
  fs.rmSync(file);
  assert.throws(() => loadAdapter(dir, config), /no adapter_model\.safetensors/);
});

test("saveAdapter rejects adapters PEFT cannot express", () => {
  const adapter = makeAdapter(config, ["q_proj", "v_proj"], 2);
  delete adapter.layers[1].v_proj;
  assert.throws(
    () => saveAdapter(tempDir(), adapter),
    /layer 1 has pairs for \[q_proj\] but the targets are \[q_proj, v_proj\]/,
  );
});

test("saveAdapter refuses a NaN adapter, naming the tensor, and writes nothing", () => {
  const adapter = makeAdapter(config, ["q_proj", "v_proj"], 4);
  (adapter.layers[0].v_proj as { b: Float32Array }).b[3] = Number.NaN;
  const dir = path.join(tempDir(), "adapter");
  assert.throws(
    () => saveAdapter(dir, adapter),
    /tensor "base_model\.model\.model\.layers\.0\.self_attn\.v_proj\.lora_B\.weight" holds NaN at index 3; refusing/,
  );
  assert.ok(!fs.existsSync(dir), "nothing was written");
});

test("saveAdapter refuses an alpha whose scale alpha/r overflows float32 (the adapter would output NaN)", () => {
  const adapter = makeAdapter(config, ["q_proj"], 4);
  adapter.config.alpha = 1e308;
  const dir = path.join(tempDir(), "adapter");
  assert.throws(() => saveAdapter(dir, adapter), /alpha\/r = 1e\+308\/4 is not finite in float32/);
  assert.ok(!fs.existsSync(dir));
});
