/**
 * The engine against an independent reference: test/reference/hf_decoder_reference.py re-implements transformers'
 * LlamaForCausalLM / Qwen2ForCausalLM forward in plain PyTorch (float64) and reads the model folder itself, so
 * these tests catch convention errors our own tests would share with the engine: RoPE rotate-half layout and
 * llama3 scaling bands, GQA head mapping (repeat_kv), q/k/v biases (Qwen2), o_proj bias (Llama attention_bias),
 * tied / untied LM head, explicit head_dim, RMSNorm weight placement and eps, SwiGLU, the causal mask, and the
 * checkpoint's tensor names, layouts and dtypes (F32, BF16, F16, sharded).
 *
 * Needs /usr/bin/python3 with torch and numpy (transformers is not needed); skipped, with the reason, without them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { ModelConfig } from "../../src/engine/config.js";
import { Model } from "../../src/engine/model.js";
import { Rng } from "../../src/engine/random.js";
import type { ModelWeights } from "../../src/engine/weights.js";
import { loadModel, saveModel } from "../../src/io/model-files.js";
import { presetConfig } from "../../src/io/presets.js";
import { createRandomModel } from "../../src/io/random-model.js";
import type { LoadableDtype } from "../../src/io/safetensors.js";

const PYTHON = "/usr/bin/python3";
/** Max |ours − reference| allowed, absolute and relative to the largest |reference logit|. */
const ABS_TOLERANCE = 1e-4;
const REL_TOLERANCE = 1e-5;

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root (package.json) above this test");
    dir = parent;
  }
  return dir;
}

const SCRIPT = path.join(repoRoot(), "test", "reference", "hf_decoder_reference.py");

/** Why the reference cannot run here, or null when it can (checked once, without importing torch). */
function referenceUnavailable(): string | null {
  const install = "on Debian/Ubuntu: apt-get install python3-torch python3-numpy";
  if (!fs.existsSync(PYTHON))
    return `${PYTHON} not found (the PyTorch reference needs it with torch and numpy; ${install})`;
  const probe = spawnSync(
    PYTHON,
    ["-c", "import importlib.util as u, sys; sys.exit(0 if u.find_spec('torch') and u.find_spec('numpy') else 3)"],
    { encoding: "utf8", timeout: 60_000 },
  );
  if (probe.error) return `${PYTHON} could not be run: ${probe.error.message}`;
  if (probe.status !== 0) return `${PYTHON} has no torch and numpy (the PyTorch reference needs both; ${install})`;
  if (!fs.existsSync(SCRIPT)) return `${SCRIPT} is missing`;
  return null;
}

const SKIP = referenceUnavailable() ?? false;

interface Case {
  name: string;
  config: ModelConfig;
  seed: number;
  dtype?: LoadableDtype;
  maxShardBytes?: number;
  lengths: number[];
}

const tinyLlama = presetConfig("tiny-llama");
const tinyQwen2 = presetConfig("tiny-qwen2");

const qwen2Gqa: ModelConfig = {
  ...tinyQwen2,
  vocabSize: 128,
  hiddenSize: 64,
  intermediateSize: 96,
  numHeads: 8,
  numKvHeads: 2,
  headDim: 8,
};

const CASES: Case[] = [
  {
    name: "qwen2: q/k/v biases, tied embeddings, GQA 8 heads / 2 kv heads",
    config: qwen2Gqa,
    seed: 11,
    lengths: [40, 1, 17, 33],
  },
  {
    name: "llama: attention_bias (q/k/v/o biases), untied lm_head, MHA, sharded checkpoint",
    config: {
      ...tinyLlama,
      vocabSize: 128,
      numHeads: 4,
      numKvHeads: 4,
      headDim: 16,
      qkvBias: true,
      oBias: true,
      tieWordEmbeddings: false,
    },
    seed: 12,
    maxShardBytes: 40_000,
    lengths: [23, 40, 2],
  },
  {
    name: "llama: llama3 rope_scaling (all three bands), tied, GQA 4 heads / 2 kv heads",
    config: {
      ...tinyLlama,
      vocabSize: 128,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      ropeTheta: 10000,
      // wavelengths 2π·10000^(2i/16) ≈ 6.3, 20, 63, 199, …: one above 64/4 = 16 (kept), two between 16 and
      // 64 (smoothed), the rest above 64 (divided by 8)
      ropeScaling: {
        type: "llama3",
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 64,
      },
      maxPositionEmbeddings: 512,
      tieWordEmbeddings: true,
    },
    seed: 13,
    lengths: [48, 5, 41],
  },
  {
    name: "llama: explicit head_dim 32 ≠ hidden/heads, linear rope_scaling, large rms_norm_eps",
    config: {
      ...tinyLlama,
      vocabSize: 128,
      hiddenSize: 48,
      intermediateSize: 80,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 32,
      ropeScaling: { type: "linear", factor: 2 },
      // comparable to the mean square of the embeddings, so where eps goes matters
      rmsNormEps: 0.02,
    },
    seed: 14,
    lengths: [36, 9, 1],
  },
  { name: "qwen2 saved as BF16", config: qwen2Gqa, seed: 15, dtype: "BF16", lengths: [30, 12] },
  { name: "qwen2 saved as F16", config: qwen2Gqa, seed: 16, dtype: "F16", lengths: [30, 12] },
];

/**
 * createRandomModel's std 0.02 weights and unit norms hide errors; spread the weights to std 0.2 and move every
 * norm weight away from 1 so RMSNorm's weight placement shows.
 */
function roughen(weights: ModelWeights, seed: number): ModelWeights {
  const rng = new Rng(seed);
  const seen = new Set<Float32Array>();
  const scale = (array: Float32Array | null, factor: number) => {
    if (array === null || seen.has(array)) return;
    seen.add(array);
    for (let i = 0; i < array.length; i++) array[i] *= factor;
  };
  const perturbNorm = (array: Float32Array) => {
    for (let i = 0; i < array.length; i++) array[i] = 1 + 0.3 * rng.normal();
  };
  scale(weights.embedTokens, 10);
  scale(weights.lmHead, 10);
  perturbNorm(weights.finalNorm);
  for (const layer of weights.layers) {
    for (const matrix of [layer.qProj, layer.kProj, layer.vProj, layer.oProj, layer.gateProj, layer.upProj])
      scale(matrix, 10);
    scale(layer.downProj, 10);
    for (const bias of [layer.qBias, layer.kBias, layer.vBias, layer.oBias]) scale(bias, 10);
    perturbNorm(layer.inputNorm);
    perturbNorm(layer.postAttentionNorm);
  }
  return weights;
}

function randomSequences(vocabSize: number, lengths: number[], seed: number): number[][] {
  const rng = new Rng(seed);
  return lengths.map((length) => Array.from({ length }, () => rng.int(vocabSize)));
}

interface Fixture {
  dir: string;
  /** The weights before saving (F32), to show that a half-precision save changed them. */
  weights: ModelWeights;
  sequences: number[][];
}

let tmpRoot: string | null = null;
const fixtures = new Map<string, Fixture>();

function fixture(c: Case): Fixture {
  let found = fixtures.get(c.name);
  if (found === undefined) {
    tmpRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), "seal-pytorch-reference-"));
    const dir = path.join(tmpRoot, `case-${fixtures.size}`);
    const weights = roughen(createRandomModel(c.config, c.seed), c.seed + 1000);
    saveModel(dir, { config: c.config, weights, dtype: c.dtype, maxShardBytes: c.maxShardBytes });
    found = { dir, weights, sequences: randomSequences(c.config.vocabSize, c.lengths, c.seed + 2000) };
    fixtures.set(c.name, found);
  }
  return found;
}

after(() => {
  if (tmpRoot !== null) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

interface ReferenceRequest {
  model_dir: string;
  sequences: number[][];
  config_overrides?: Record<string, unknown>;
}

/** Runs the Python reference on several requests in one process (torch's import dominates its run time). */
function runReference(requests: ReferenceRequest[]): number[][][][] {
  const run = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify({ requests }),
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
    timeout: 120_000,
  });
  if (run.error) throw new Error(`${PYTHON} ${SCRIPT} could not run: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`${PYTHON} ${SCRIPT} exited with ${run.status}:\n${run.stderr}`);
  const parsed = JSON.parse(run.stdout) as { results: { logits: number[][][] }[] };
  return parsed.results.map((result) => result.logits);
}

/** Reference logits of every case, plus the negative controls, from one Python run. */
const CONTROLS = {
  llama3WithoutScaling: { case: CASES[2], config_overrides: { rope_scaling: null } },
} as const;

let referenceCache: Map<string, number[][][]> | null = null;

function reference(key: string): number[][][] {
  if (referenceCache === null) {
    const keys: string[] = [];
    const requests: ReferenceRequest[] = [];
    for (const c of CASES) {
      const { dir, sequences } = fixture(c);
      keys.push(c.name);
      requests.push({ model_dir: dir, sequences });
    }
    for (const [name, control] of Object.entries(CONTROLS)) {
      const { dir, sequences } = fixture(control.case);
      keys.push(name);
      requests.push({ model_dir: dir, sequences, config_overrides: control.config_overrides });
    }
    const results = runReference(requests);
    referenceCache = new Map(keys.map((k, i) => [k, results[i]]));
  }
  const found = referenceCache.get(key);
  if (found === undefined) throw new Error(`no reference for ${key}`);
  return found;
}

interface Difference {
  maxAbs: number;
  /** max |reference logit| */
  scale: number;
}

function difference(ours: Float32Array[], theirs: number[][][], vocabSize: number, lengths: number[]): Difference {
  assert.equal(ours.length, lengths.length);
  assert.equal(theirs.length, lengths.length);
  let maxAbs = 0;
  let scale = 0;
  lengths.forEach((length, s) => {
    assert.equal(ours[s].length, length * vocabSize, `our logits for sequence ${s}`);
    assert.equal(theirs[s].length, length, `reference positions for sequence ${s}`);
    for (let t = 0; t < length; t++) {
      const row = theirs[s][t];
      assert.equal(row.length, vocabSize, `reference vocabulary at sequence ${s} position ${t}`);
      for (let v = 0; v < vocabSize; v++) {
        const expected = row[v];
        const got = ours[s][t * vocabSize + v];
        assert.ok(Number.isFinite(got), `our logit is ${got} at sequence ${s} position ${t} token ${v}`);
        maxAbs = Math.max(maxAbs, Math.abs(got - expected));
        scale = Math.max(scale, Math.abs(expected));
      }
    }
  });
  return { maxAbs, scale };
}

function describe(d: Difference): string {
  return `max |ours − reference| = ${d.maxAbs.toExponential(2)} (max |logit| ${d.scale.toFixed(2)}, relative ${(d.maxAbs / d.scale).toExponential(2)})`;
}

function ourLogits(dir: string, sequences: number[][]): { logits: Float32Array[]; config: ModelConfig } {
  // Loaded back from disk, so the save → load round trip is part of what is compared.
  const { config, weights } = loadModel(dir);
  return { logits: new Model(config, weights).logits(sequences), config };
}

for (const c of CASES) {
  test(`engine logits match the PyTorch reference: ${c.name}`, { skip: SKIP }, (t) => {
    const { dir, sequences } = fixture(c);
    const { logits, config } = ourLogits(dir, sequences);
    assert.deepEqual(config, c.config, "config.json round trip");
    const d = difference(logits, reference(c.name), c.config.vocabSize, c.lengths);
    t.diagnostic(describe(d));
    assert.ok(d.scale > 1, `reference logits are too small to show anything (max ${d.scale})`);
    assert.ok(d.maxAbs < ABS_TOLERANCE, describe(d));
    assert.ok(d.maxAbs < REL_TOLERANCE * d.scale, describe(d));
  });
}

test("the llama3 case exercises all three bands and its scaling changes the logits", { skip: SKIP }, (t) => {
  const c = CONTROLS.llama3WithoutScaling.case;
  const { config } = c;
  assert.ok(config.ropeScaling?.type === "llama3");
  const { originalMaxPositionEmbeddings: context, lowFreqFactor, highFreqFactor } = config.ropeScaling;
  const wavelengths = Array.from(
    { length: config.headDim / 2 },
    (_, i) => 2 * Math.PI * config.ropeTheta ** ((2 * i) / config.headDim),
  );
  assert.ok(
    wavelengths.some((w) => w < context / highFreqFactor),
    "a high-frequency (kept) band",
  );
  assert.ok(
    wavelengths.some((w) => w > context / highFreqFactor && w < context / lowFreqFactor),
    "a smoothed band",
  );
  assert.ok(
    wavelengths.some((w) => w > context / lowFreqFactor),
    "a low-frequency (divided) band",
  );
  // Without rope_scaling the reference moves far more than the tolerance: the comparison above can see it.
  const { dir, sequences } = fixture(c);
  const { logits } = ourLogits(dir, sequences);
  const d = difference(logits, reference("llama3WithoutScaling"), config.vocabSize, c.lengths);
  t.diagnostic(`against the reference without rope_scaling: ${describe(d)}`);
  assert.ok(d.maxAbs > 1000 * ABS_TOLERANCE, describe(d));
});

for (const c of CASES.filter((x) => x.dtype !== undefined && x.dtype !== "F32")) {
  test(`the ${c.dtype} save rounds the weights visibly: ${c.name}`, { skip: SKIP }, (t) => {
    // The unrounded weights give logits far from the reference on the rounded file, so the match above shows
    // that both sides read the same rounded values.
    const { weights, sequences } = fixture(c);
    const unrounded = new Model(c.config, weights).logits(sequences);
    const d = difference(unrounded, reference(c.name), c.config.vocabSize, c.lengths);
    t.diagnostic(`F32 weights against the reference on the ${c.dtype} file: ${describe(d)}`);
    assert.ok(d.maxAbs > 100 * ABS_TOLERANCE, describe(d));
  });
}
