/**
 * Whole-model gradients against central finite differences of the loss: LoRA on all seven projections (with and
 * without dropout off) and full training of every weight kind. The model runs in float32, so each check uses a
 * step where float32 rounding is small next to the change, and compares the largest and some random coordinates.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type PackedBatch, packSequences } from "../../src/engine/batch.js";
import { PROJECTIONS } from "../../src/engine/config.js";
import { adapterTensors, createLoraAdapter, zerosLike } from "../../src/engine/lora.js";
import type { Model } from "../../src/engine/model.js";
import { Rng } from "../../src/engine/random.js";
import { weightTensors, zeroGradientsLike } from "../../src/engine/train.js";
import { randomTokens, tinyConfig, tinyModel } from "./tiny-model.js";

function batchWithTargets(vocab: number): { batch: PackedBatch; targets: Int32Array } {
  const rng = new Rng(11);
  const sequences = [randomTokens(rng, 7, vocab), randomTokens(rng, 4, vocab), randomTokens(rng, 1, vocab)];
  const batch = packSequences(sequences);
  const targets = new Int32Array(batch.rows).fill(-1);
  // a loss mask with holes: train only some positions, as completion-only SFT does
  for (let r = 0; r < batch.rows; r++) if (r % 3 !== 1) targets[r] = rng.int(vocab);
  return { batch, targets };
}

function meanLoss(model: Model, batch: PackedBatch, targets: Int32Array): number {
  const { lossSum, tokens } = model.lossAndBackward(batch, targets);
  return lossSum / tokens;
}

/** Checks analytic gradients of `tensors` against central differences on chosen coordinates. */
function checkGradients(
  model: Model,
  batch: PackedBatch,
  targets: Int32Array,
  tensors: Float32Array[],
  grads: Float32Array[],
  label: string,
): void {
  const rng = new Rng(99);
  const eps = 1e-2;
  let worst = 0;
  let checked = 0;
  const scale = Math.max(...grads.map((g) => g.reduce((m, x) => Math.max(m, Math.abs(x)), 0)));
  assert.ok(scale > 0, `${label}: all gradients are zero`);
  tensors.forEach((tensor, t) => {
    const grad = grads[t];
    let largest = 0;
    for (let i = 1; i < grad.length; i++) if (Math.abs(grad[i]) > Math.abs(grad[largest])) largest = i;
    for (const i of [largest, rng.int(tensor.length), rng.int(tensor.length)]) {
      const original = tensor[i];
      tensor[i] = original + eps;
      const plus = meanLoss(model, batch, targets);
      tensor[i] = original - eps;
      const minus = meanLoss(model, batch, targets);
      tensor[i] = original;
      const numeric = (plus - minus) / (2 * eps);
      const error = Math.abs(numeric - grad[i]) / (scale + 1e-8);
      worst = Math.max(worst, error);
      checked++;
      assert.ok(error < 2e-2, `${label}: tensor ${t} index ${i}: analytic ${grad[i]} vs numeric ${numeric}`);
    }
  });
  assert.ok(checked >= tensors.length * 3);
}

for (const arch of ["llama", "qwen2"] as const) {
  test(`${arch}: LoRA gradients on all seven projections match finite differences`, () => {
    const config = tinyConfig(arch, arch === "llama" ? { qkvBias: true, oBias: true, tieWordEmbeddings: false } : {});
    const model = tinyModel(config, 2);
    const adapter = createLoraAdapter(config, { rank: 3, alpha: 6, dropout: 0, targets: [...PROJECTIONS] }, new Rng(3));
    const rng = new Rng(4);
    for (const layer of adapter.layers) for (const pair of Object.values(layer)) rng.fillNormal(pair.b, 0.3);
    model.adapter = adapter;
    const { batch, targets } = batchWithTargets(config.vocabSize);
    const grads = zerosLike(adapter);
    const result = model.lossAndBackward(batch, targets, {
      grads: { lora: grads, full: null },
      gradScale: 1 / targets.filter((t) => t >= 0).length,
    });
    assert.ok(result.tokens > 0);
    checkGradients(model, batch, targets, adapterTensors(adapter), adapterTensors(grads), `${arch} LoRA`);
  });

  test(`${arch}: full-training gradients of every weight match finite differences`, () => {
    const config = tinyConfig(
      arch,
      arch === "llama" ? { qkvBias: true, oBias: true, tieWordEmbeddings: false } : { tieWordEmbeddings: true },
    );
    const model = tinyModel(config, 5);
    const { batch, targets } = batchWithTargets(config.vocabSize);
    const grads = zeroGradientsLike(model.weights);
    model.lossAndBackward(batch, targets, {
      grads: { lora: null, full: grads },
      gradScale: 1 / targets.filter((t) => t >= 0).length,
    });
    checkGradients(model, batch, targets, weightTensors(model.weights), weightTensors(grads), `${arch} full`);
  });
}

test("LoRA dropout: the gradient is that of the loss under the same dropout mask", () => {
  const config = tinyConfig("qwen2");
  const model = tinyModel(config, 7);
  const adapter = createLoraAdapter(
    config,
    { rank: 2, alpha: 4, dropout: 0.3, targets: ["q_proj", "up_proj"] },
    new Rng(8),
  );
  const rng = new Rng(9);
  for (const layer of adapter.layers) for (const pair of Object.values(layer)) rng.fillNormal(pair.b, 0.3);
  model.adapter = adapter;
  const { batch, targets } = batchWithTargets(config.vocabSize);
  const count = targets.filter((t) => t >= 0).length;
  const grads = zerosLike(adapter);
  const seed = 1234;
  model.lossAndBackward(batch, targets, {
    grads: { lora: grads, full: null },
    gradScale: 1 / count,
    dropoutSeed: seed,
  });
  // finite differences of the loss with the same dropout seed (a fixed mask)
  const lossWithMask = () => {
    const scratch = zerosLike(adapter);
    const { lossSum } = model.lossAndBackward(batch, targets, {
      grads: { lora: scratch, full: null },
      gradScale: 0,
      dropoutSeed: seed,
    });
    return lossSum / count;
  };
  const tensors = adapterTensors(adapter);
  const gradTensors = adapterTensors(grads);
  const eps = 1e-2;
  for (let t = 0; t < tensors.length; t++) {
    const i = rng.int(tensors[t].length);
    const original = tensors[t][i];
    tensors[t][i] = original + eps;
    const plus = lossWithMask();
    tensors[t][i] = original - eps;
    const minus = lossWithMask();
    tensors[t][i] = original;
    const numeric = (plus - minus) / (2 * eps);
    assert.ok(
      Math.abs(numeric - gradTensors[t][i]) < 2e-3 + 2e-2 * Math.abs(numeric),
      `tensor ${t}: ${gradTensors[t][i]} vs ${numeric}`,
    );
  }
});
