import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { ModelConfig } from "../../src/engine/config.js";
import { PRESETS } from "../../src/io/presets.js";
import { createRandomModel } from "../../src/io/random-model.js";
import { chunkDocuments, DEFAULT_PRETRAIN, planSteps, pretrain } from "../../src/seal/pretrain.js";
import { tempDir } from "../io/fixtures.js";

const config: ModelConfig = { ...PRESETS["tiny-llama"], vocabSize: 32 };

/** Documents with a learnable pattern: counting up from a random start, modulo 30 (+2 to skip special ids). */
function documents(count: number, seed: number): number[][] {
  const docs: number[][] = [];
  for (let d = 0; d < count; d++) {
    const start = (d * 7 + seed) % 30;
    docs.push(Array.from({ length: 12 + (d % 9) }, (_, i) => ((start + i) % 30) + 2));
  }
  return docs;
}

const settings = {
  ...DEFAULT_PRETRAIN,
  steps: 24,
  tokensPerStep: 64,
  maxSequenceTokens: 16,
  lr: 1e-2,
  warmupSteps: 2,
  checkpointEvery: 5,
  evalEvery: 8,
};

describe("pretrain", () => {
  it("chunks documents and plans steps within the token budget, every chunk once per epoch", () => {
    assert.deepEqual(chunkDocuments([[1, 2, 3, 4, 5], [6]], 2), [
      [1, 2],
      [3, 4],
    ]);
    const lengths = [5, 9, 3, 7, 2, 8];
    const plan = planSteps(lengths, { steps: 10, tokensPerStep: 10, seed: 1 });
    assert.equal(plan.length, 10);
    for (const { step } of plan) assert.ok(step.reduce((n, i) => n + lengths[i], 0) <= 10 || step.length === 1);
    const epoch0 = plan.filter((p) => p.epoch === 0).flatMap((p) => p.step);
    assert.deepEqual([...epoch0].sort(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(planSteps(lengths, { steps: 10, tokensPerStep: 10, seed: 1 }), plan, "deterministic");
    assert.notDeepEqual(planSteps(lengths, { steps: 10, tokensPerStep: 10, seed: 2 }), plan, "seeded");
  });

  it("lowers the training and held-out loss on a learnable pattern", () => {
    const dir = tempDir("seal-pretrain-");
    try {
      const result = pretrain({
        config,
        initialWeights: createRandomModel(config, 3),
        documents: documents(40, 0),
        evalDocuments: documents(6, 5),
        settings,
        dir,
      });
      const first = result.log[0];
      const last = result.log[result.log.length - 1];
      assert.ok(last.loss < first.loss * 0.6, `${first.loss} → ${last.loss}`);
      const evals = result.log.filter((e) => e.evalLoss !== undefined).map((e) => e.evalLoss as number);
      assert.equal(evals.length, 3);
      assert.ok(evals[evals.length - 1] < Math.log(32) * 0.6, `held-out ${evals}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("resumes after a crash from the last checkpoint and ends with the same weights and log", () => {
    const straight = tempDir("seal-pretrain-a-");
    const crashed = tempDir("seal-pretrain-b-");
    try {
      const request = (dir: string) => ({
        config,
        initialWeights: createRandomModel(config, 3),
        documents: documents(40, 0),
        evalDocuments: [],
        settings,
        dir,
      });
      const reference = pretrain(request(straight));
      assert.throws(
        () =>
          pretrain({
            ...request(crashed),
            onStep: (entry) => {
              if (entry.step === 13) throw new Error("killed");
            },
          }),
        /killed/,
      );
      assert.ok(fs.existsSync(path.join(crashed, "checkpoint", "state.json")));
      const resumed = pretrain(request(crashed));
      assert.equal(resumed.resumedFrom, 10);
      assert.deepEqual(
        resumed.log.map((e) => e.loss),
        reference.log.map((e) => e.loss),
      );
      assert.deepEqual(resumed.weights.embedTokens, reference.weights.embedTokens);
      assert.deepEqual(resumed.weights.layers[1].downProj, reference.weights.layers[1].downProj);
    } finally {
      fs.rmSync(straight, { recursive: true, force: true });
      fs.rmSync(crashed, { recursive: true, force: true });
    }
  });

  it("a diverging run stops with a clear error at its step; every checkpoint it left holds the finite weights", () => {
    const dir = tempDir("seal-pretrain-diverged-");
    try {
      // a sane start checkpointed at step 5, then a learning rate no float32 weight survives
      pretrain({
        config,
        initialWeights: createRandomModel(config, 3),
        documents: documents(40, 0),
        evalDocuments: [],
        settings: { ...settings, steps: 5 },
        dir,
      });
      const before = fs.readFileSync(path.join(dir, "checkpoint", "model.safetensors"));
      assert.throws(
        () =>
          pretrain({
            config,
            initialWeights: createRandomModel(config, 3),
            documents: documents(40, 0),
            evalDocuments: [],
            settings: { ...settings, steps: 12, lr: 1e30, warmupSteps: 0 },
            dir,
          }),
        (error: Error) =>
          error.name === "TrainingDivergedError" &&
          /^training diverged at step 6 of 12 \(epoch \d+\): .*; lower the learning rate$/.test(error.message),
      );
      assert.deepEqual(fs.readFileSync(path.join(dir, "checkpoint", "model.safetensors")), before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
