import assert from "node:assert/strict";
import { test } from "node:test";
import { packSequences } from "../../src/engine/batch.js";
import { KvCache } from "../../src/engine/kv-cache.js";
import { createLoraAdapter, mergeAdapter } from "../../src/engine/lora.js";
import { Model } from "../../src/engine/model.js";
import { Rng } from "../../src/engine/random.js";
import { maxAbsDiff, randomTokens, tinyConfig, tinyModel } from "./tiny-model.js";

for (const arch of ["llama", "qwen2"] as const) {
  test(`${arch}: batched packed forward equals one sequence at a time (no cross-sequence leakage)`, () => {
    const config = tinyConfig(arch);
    const model = tinyModel(config);
    const rng = new Rng(3);
    const sequences = [7, 1, 12, 5].map((n) => randomTokens(rng, n, config.vocabSize));
    const batched = model.logits(sequences);
    sequences.forEach((sequence, i) => {
      const alone = model.logits([sequence])[0];
      assert.ok(maxAbsDiff(batched[i], alone) < 1e-5, `sequence ${i}`);
    });
    // changing another sequence must not change this one's logits
    const altered = model.logits([sequences[0], randomTokens(rng, 9, config.vocabSize)]);
    assert.ok(maxAbsDiff(altered[0], batched[0]) < 1e-5);
  });

  test(`${arch}: KV-cache prefill + decode gives the logits of a full forward`, () => {
    const config = tinyConfig(arch);
    const model = tinyModel(config);
    const rng = new Rng(4);
    const sequences = [randomTokens(rng, 10, config.vocabSize), randomTokens(rng, 6, config.vocabSize)];
    const full = model.logits(sequences);
    const V = config.vocabSize;
    const cache = new KvCache(config, 2, 16);
    // prefill the first 4 tokens of both sequences together, then decode both one token at a time
    const prefillLength = 4;
    const tokens = Int32Array.from([...sequences[0].slice(0, prefillLength), ...sequences[1].slice(0, prefillLength)]);
    const positions = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
    const slots = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
    const prefill = model.forwardCached(cache, tokens, positions, slots, [3, 7]);
    assert.ok(maxAbsDiff(prefill.subarray(0, V), full[0].subarray(3 * V, 4 * V)) < 1e-5);
    assert.ok(maxAbsDiff(prefill.subarray(V, 2 * V), full[1].subarray(3 * V, 4 * V)) < 1e-5);
    for (let p = prefillLength; p < 6; p++) {
      const step = model.forwardCached(
        cache,
        Int32Array.from([sequences[0][p], sequences[1][p]]),
        Int32Array.from([p, p]),
        Int32Array.from([0, 1]),
        [0, 1],
      );
      assert.ok(maxAbsDiff(step.subarray(0, V), full[0].subarray(p * V, (p + 1) * V)) < 1e-5, `seq 0 position ${p}`);
      assert.ok(
        maxAbsDiff(step.subarray(V, 2 * V), full[1].subarray(p * V, (p + 1) * V)) < 1e-5,
        `seq 1 position ${p}`,
      );
    }
  });

  test(`${arch}: merged adapter equals the unmerged adapter, and unmerging restores the base`, () => {
    const config = tinyConfig(arch);
    const model = tinyModel(config);
    const adapter = createLoraAdapter(
      config,
      { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj", "down_proj", "gate_proj"] },
      new Rng(5),
    );
    const rng = new Rng(6);
    for (const layer of adapter.layers) for (const pair of Object.values(layer)) rng.fillNormal(pair.b, 0.2);
    const sequence = randomTokens(rng, 9, config.vocabSize);
    const base = model.logits([sequence])[0];
    model.adapter = adapter;
    const withAdapter = model.logits([sequence])[0];
    assert.ok(maxAbsDiff(withAdapter, base) > 1e-3, "the adapter must change the output");
    model.adapter = null;
    const weightsCopy = structuredClone(model.weights);
    mergeAdapter(config, weightsCopy, adapter);
    const merged = new Model(config, weightsCopy).logits([sequence])[0];
    assert.ok(maxAbsDiff(merged, withAdapter) < 1e-4);
    mergeAdapter(config, weightsCopy, adapter, -1);
    assert.ok(maxAbsDiff(new Model(config, weightsCopy).logits([sequence])[0], base) < 1e-4);
    // switching adapters needs no reload: the base is untouched
    assert.ok(maxAbsDiff(model.logits([sequence])[0], base) === 0);
  });
}

test("a fresh LoRA adapter (B = 0) leaves the model unchanged", () => {
  const config = tinyConfig("qwen2");
  const model = tinyModel(config);
  const sequence = [1, 2, 3, 4, 5];
  const base = model.logits([sequence])[0];
  model.adapter = createLoraAdapter(
    config,
    {
      rank: 8,
      alpha: 16,
      dropout: 0,
      targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    },
    new Rng(1),
  );
  assert.equal(maxAbsDiff(model.logits([sequence])[0], base), 0);
});

test("loss over a packed batch equals the sum of per-sequence losses", () => {
  const config = tinyConfig("llama");
  const model = tinyModel(config);
  const rng = new Rng(8);
  const sequences = [randomTokens(rng, 8, config.vocabSize), randomTokens(rng, 5, config.vocabSize)];
  const targetsOf = (s: number[]) => Int32Array.from(s, (_, i) => (i + 1 < s.length ? s[i + 1] : -1));
  const together = model.lossAndBackward(
    packSequences(sequences),
    Int32Array.from([...targetsOf(sequences[0]), ...targetsOf(sequences[1])]),
  );
  const apart = sequences.map((s) => model.lossAndBackward(packSequences([s]), targetsOf(s)));
  assert.equal(together.tokens, 11);
  assert.ok(Math.abs(together.lossSum - (apart[0].lossSum + apart[1].lossSum)) < 1e-4);
  // with a tiny random model the loss is near ln(vocab)
  assert.ok(Math.abs(together.lossSum / together.tokens - Math.log(config.vocabSize)) < 1.5);
});

test("KV cache rejects a position beyond its capacity", () => {
  const config = tinyConfig("llama");
  const model = tinyModel(config);
  const cache = new KvCache(config, 1, 4);
  assert.throws(
    () => model.forwardCached(cache, Int32Array.from([1]), Int32Array.from([4]), Int32Array.from([0]), [0]),
    /capacity/,
  );
});
