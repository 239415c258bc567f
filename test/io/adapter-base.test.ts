/**
 * An adapter records the fingerprint of the base model it was trained on (seal_adapter.json), and loading it for
 * another model of the same shapes warns, or with `strict` refuses (issue 10, item 6).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { projectionShape } from "../../src/engine/config.js";
import { mergeAdapter } from "../../src/engine/lora.js";
import type { LoraAdapter } from "../../src/engine/lora-types.js";
import type { ModelWeights } from "../../src/engine/weights.js";
import { SEAL_ADAPTER_FILE } from "../../src/io/adapter-base.js";
import { baseModelFingerprint } from "../../src/io/base-fingerprint.js";
import { presetConfig } from "../../src/io/hf-config.js";
import { loadAdapter, saveAdapter } from "../../src/io/peft.js";
import { createRandomModel } from "../../src/io/random-model.js";
import { randomFloats, tempDir } from "./fixtures.js";

const config = presetConfig("tiny-qwen2");
const base = createRandomModel(config, 1);
const otherBase = createRandomModel(config, 2);

function makeAdapter(seed: number): LoraAdapter {
  return {
    config: { rank: 2, alpha: 4, dropout: 0, targets: ["q_proj"] },
    layers: Array.from({ length: config.numLayers }, () => {
      const [outFeatures, inFeatures] = projectionShape(config, "q_proj");
      return { q_proj: { a: randomFloats(2 * inFeatures, seed++), b: randomFloats(outFeatures * 2, seed++) } };
    }),
  };
}

function copyWeights(weights: ModelWeights): ModelWeights {
  const embedTokens = weights.embedTokens.slice();
  return {
    embedTokens,
    layers: weights.layers.map(
      (layer) =>
        Object.fromEntries(
          Object.entries(layer).map(([k, v]) => [k, v === null ? null : v.slice()]),
        ) as unknown as ModelWeights["layers"][number],
    ),
    finalNorm: weights.finalNorm.slice(),
    lmHead: weights.lmHead === weights.embedTokens ? embedTokens : weights.lmHead.slice(),
  };
}

/** Saves an adapter trained (nominally) on `on`, returns its folder. */
function savedAdapter(on: ModelWeights | null): string {
  const dir = path.join(tempDir("seal-adapter-base-"), "adapter");
  saveAdapter(dir, makeAdapter(7), {
    baseModel: "/models/base",
    ...(on === null ? {} : { baseFingerprint: baseModelFingerprint(config, on) }),
  });
  return dir;
}

function loadWithLog(dir: string, weights: ModelWeights, strict = false): string[] {
  const lines: string[] = [];
  loadAdapter(dir, config, { base: weights, strict, log: (line) => lines.push(line) });
  return lines;
}

test("the base fingerprint follows the weights and the computation, not token ids, copies or position limits", () => {
  const fingerprint = baseModelFingerprint(config, base);
  assert.match(fingerprint, /^[0-9a-f]{64}$/);
  assert.equal(baseModelFingerprint(config, copyWeights(base)), fingerprint);
  assert.equal(
    baseModelFingerprint({ ...config, eosTokenIds: [5], bosTokenId: 4, maxPositionEmbeddings: 64 }, base),
    fingerprint,
  );
  assert.notEqual(baseModelFingerprint(config, otherBase), fingerprint);
  assert.notEqual(baseModelFingerprint({ ...config, ropeTheta: config.ropeTheta * 2 }, base), fingerprint);
  // A merged LoRA update (every value of the adapted projections moves) is another base.
  const merged = copyWeights(base);
  mergeAdapter(config, merged, makeAdapter(3));
  assert.notEqual(baseModelFingerprint(config, merged), fingerprint);
  // One value in a sampled window of one tensor is enough.
  const nudged = copyWeights(base);
  nudged.layers[1].downProj[0] += 1e-3;
  assert.notEqual(baseModelFingerprint(config, nudged), fingerprint);
});

test("saveAdapter records the base in seal_adapter.json and leaves adapter_config.json as PEFT writes it", () => {
  const dir = savedAdapter(base);
  const record = JSON.parse(fs.readFileSync(path.join(dir, SEAL_ADAPTER_FILE), "utf8"));
  assert.equal(record.base_model_fingerprint, baseModelFingerprint(config, base));
  assert.equal(record.base_model, "/models/base");
  const peftConfig = JSON.parse(fs.readFileSync(path.join(dir, "adapter_config.json"), "utf8"));
  assert.equal(peftConfig.base_model_name_or_path, "/models/base");
  assert.deepEqual(
    Object.keys(peftConfig).filter((key) => key.includes("seal") || key.includes("fingerprint")),
    [],
    "PEFT before 0.13 fails on keys it does not know",
  );
  // Saving over it without a fingerprint removes the record, which would describe another adapter.
  saveAdapter(dir, makeAdapter(9));
  assert.equal(fs.existsSync(path.join(dir, SEAL_ADAPTER_FILE)), false);
});

test("loading for the same base is silent; another base warns, or with strict is refused", () => {
  const dir = savedAdapter(base);
  assert.deepEqual(loadWithLog(dir, copyWeights(base)), []);
  assert.deepEqual(loadWithLog(dir, copyWeights(base), true), []);
  const lines = loadWithLog(dir, otherBase);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^warning: .*adapter was trained on a different base model \(base fingerprint [0-9a-f]{12}… of \/models\/base\) than the one it is applied to/,
  );
  assert.throws(() => loadWithLog(dir, otherBase, true), /trained on a different base model .*refused \(--strict\)/);
  // A precomputed fingerprint works as well as the weights.
  assert.deepEqual(
    (() => {
      const seen: string[] = [];
      loadAdapter(dir, config, { base: baseModelFingerprint(config, base), log: (line) => seen.push(line) });
      return seen;
    })(),
    [],
  );
});

test("an adapter without a usable record (PEFT's, or weights rewritten since) loads with a note, even strict", () => {
  const peft = savedAdapter(null);
  const lines = loadWithLog(peft, otherBase, true);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^note: .*: no seal_adapter\.json \(not written by seal\); its base model is not checked \(adapter_config\.json names base model \/models\/base\)$/,
  );
  const rewritten = savedAdapter(base);
  saveAdapter(path.join(rewritten, "..", "elsewhere"), makeAdapter(11));
  fs.copyFileSync(
    path.join(rewritten, "..", "elsewhere", "adapter_model.safetensors"),
    path.join(rewritten, "adapter_model.safetensors"),
  );
  const stale = loadWithLog(rewritten, otherBase, true);
  assert.equal(stale.length, 1);
  assert.match(stale[0], /^note: .*seal_adapter\.json describes other weights than adapter_model\.safetensors/);
});
