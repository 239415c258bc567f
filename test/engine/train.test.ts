import assert from "node:assert/strict";
import { test } from "node:test";
import { createLoraAdapter } from "../../src/engine/lora.js";
import { clipGradNorm, globalNorm } from "../../src/engine/optimizer.js";
import { Rng } from "../../src/engine/random.js";
import { exampleTargets, trainSft } from "../../src/engine/train.js";
import { randomTokens, tinyConfig, tinyModel } from "./tiny-model.js";

test("exampleTargets: next-token targets where the loss mask is set, none for position 0", () => {
  const targets = exampleTargets({ tokens: [5, 6, 7, 8], lossMask: [1, 0, 1, 1] });
  // row i predicts token i+1 when mask[i+1]
  assert.deepEqual([...targets], [-1, 7, 8, -1]);
  assert.deepEqual([...exampleTargets({ tokens: [5, 6, 7], lossMask: null })], [6, 7, -1]);
});

test("LoRA SFT on one sequence drives its loss down, leaves the base weights untouched", () => {
  const config = tinyConfig("qwen2");
  const model = tinyModel(config, 3);
  const before = structuredClone(model.weights);
  const sequence = randomTokens(new Rng(1), 24, config.vocabSize);
  const adapter = createLoraAdapter(
    config,
    { rank: 8, alpha: 16, dropout: 0, targets: ["q_proj", "v_proj", "gate_proj"] },
    new Rng(2),
  );
  const steps: number[] = [];
  const result = trainSft(
    model,
    [{ tokens: sequence, lossMask: null }],
    { kind: "lora", adapter },
    { epochs: 30, lr: 1e-2, schedule: "constant" },
    (r) => steps.push(r.loss),
  );
  assert.equal(result.steps, 30);
  assert.equal(steps.length, 30);
  assert.ok(result.losses[29] < result.losses[0] * 0.5, `loss ${result.losses[0]} → ${result.losses[29]}`);
  assert.deepEqual(model.weights, before);
  assert.equal(model.adapter, null, "training does not leave the adapter attached");
});

test("full training drives the loss down and changes the weights", () => {
  const config = tinyConfig("llama");
  const model = tinyModel(config, 4);
  const embedBefore = model.weights.embedTokens.slice();
  const rng = new Rng(5);
  const examples = [0, 1, 2, 3].map(() => ({ tokens: randomTokens(rng, 12, config.vocabSize), lossMask: null }));
  const result = trainSft(
    model,
    examples,
    { kind: "full" },
    { epochs: 15, batchSize: 2, lr: 3e-3, schedule: "cosine", warmupSteps: 2 },
  );
  assert.equal(result.steps, 30);
  assert.ok(result.losses.at(-1)! < result.losses[0] * 0.6, `loss ${result.losses[0]} → ${result.losses.at(-1)}`);
  assert.notDeepEqual(model.weights.embedTokens, embedBefore);
});

test("gradient accumulation equals one large batch", () => {
  const config = tinyConfig("qwen2");
  const rng = new Rng(6);
  const examples = [5, 9, 7, 4].map((n) => ({ tokens: randomTokens(rng, n, config.vocabSize), lossMask: null }));
  const run = (batchSize: number, gradientAccumulation: number) => {
    const model = tinyModel(config, 7);
    const adapter = createLoraAdapter(
      config,
      { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] },
      new Rng(8),
    );
    trainSft(
      model,
      examples,
      { kind: "lora", adapter },
      { epochs: 2, batchSize, gradientAccumulation, lr: 1e-2, shuffle: false },
    );
    return adapter;
  };
  const big = run(4, 1);
  const accumulated = run(1, 4);
  for (let l = 0; l < big.layers.length; l++) {
    const a = big.layers[l].q_proj!.b;
    const b = accumulated.layers[l].q_proj!.b;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    assert.ok(diff < 1e-5, `layer ${l} differs by ${diff}`);
  }
});

test("completion-only loss trains only the masked-in tokens", () => {
  const config = tinyConfig("llama");
  const model = tinyModel(config, 9);
  const tokens = randomTokens(new Rng(10), 16, config.vocabSize);
  const lossMask = tokens.map((_, i) => i >= 10);
  const reports: number[] = [];
  const adapter = createLoraAdapter(config, { rank: 4, alpha: 8, dropout: 0, targets: ["v_proj"] }, new Rng(11));
  trainSft(model, [{ tokens, lossMask }], { kind: "lora", adapter }, { epochs: 1 }, (r) => reports.push(r.tokens));
  assert.deepEqual(reports, [6]);
});

test("clipGradNorm scales gradients to the threshold and reports the norm before clipping", () => {
  const grads = [Float32Array.from([3, 0]), Float32Array.from([0, 4])];
  assert.equal(clipGradNorm(grads, 1), 5);
  assert.ok(Math.abs(globalNorm(grads) - 1) < 1e-5);
  const small = [Float32Array.from([0.3, 0.4])];
  clipGradNorm(small, 1);
  assert.deepEqual([...small[0]], [Math.fround(0.3), Math.fround(0.4)]);
});

test("maxSteps stops mid-epoch (a fractional epoch count) and the schedule spans exactly those steps", () => {
  const config = tinyConfig("llama");
  const rng = new Rng(7);
  const examples = [0, 1, 2, 3, 4, 5].map(() => ({ tokens: randomTokens(rng, 8, config.vocabSize), lossMask: null }));
  const adapter = createLoraAdapter(config, { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj"] }, new Rng(2));
  const lrs: number[] = [];
  const epochs: number[] = [];
  const result = trainSft(
    tinyModel(config, 4),
    examples,
    { kind: "lora", adapter },
    { epochs: 2, batchSize: 2, lr: 1e-2, schedule: "linear", maxSteps: 4 },
    (report) => {
      lrs.push(report.lr);
      epochs.push(report.epoch);
      assert.equal(report.totalSteps, 4);
    },
  );
  assert.equal(result.steps, 4);
  assert.deepEqual(epochs, [0, 0, 0, 1], "3 steps per epoch, then one step of the second");
  assert.deepEqual(lrs, [1e-2, 7.5e-3, 5e-3, 2.5e-3], "linear decay over the 4 steps run");
  assert.throws(() => trainSft(tinyModel(config, 4), examples, { kind: "full" }, { maxSteps: 0 }), /maxSteps/);
});

test("an absurd LoRA rank is refused with the valid range, and an adapter beyond memory before allocation", () => {
  const config = tinyConfig("llama");
  const lora = { rank: 1e9, alpha: 8, dropout: 0, targets: ["q_proj" as const] };
  assert.throws(
    () => createLoraAdapter(config, lora, new Rng(1)),
    /^Error: LoRA rank must be an integer in \[1, 65536\], got 1000000000$/,
  );
  const huge = tinyConfig("llama", { numLayers: 1024, hiddenSize: 65536, intermediateSize: 1_048_576 });
  assert.throws(
    () => createLoraAdapter(huge, { ...lora, rank: 65536, targets: ["down_proj"] }, new Rng(1)),
    /^Error: a rank-65536 LoRA adapter on down_proj needs \d+\.\d GiB, more than this machine's .* \(lower the rank\)$/,
  );
});
