import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, it } from "node:test";
import { type SftSettings, sftMergeSave } from "../../src/seal/sft-merge.js";
import { createTinyModel } from "../cli/cli-fixtures.js";

const { root, model } = createTinyModel("seal-sft-merge-");
after(() => fs.rmSync(root, { recursive: true, force: true }));

const ROWS = [
  { prompt: "The capital of France is", completion: " Paris." },
  { prompt: "The capital of Italy is", completion: " Rome." },
];
const SETTINGS: SftSettings = {
  lora: { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] },
  lr: 1e-3,
  epochs: 1,
  batchSize: 1,
  gradientAccumulation: 1,
  schedule: "linear",
  seed: 0,
};

it("a diverged SFT stops with a clear error and writes no merged checkpoint", () => {
  const out = path.join(root, "merged");
  assert.throws(
    () => sftMergeSave(model, ROWS, { ...SETTINGS, lr: 1e30 }, out, () => {}, { divergenceHint: "lower --sft-lr" }),
    (error: Error) => {
      assert.equal(error.name, "TrainingDivergedError");
      assert.match(
        error.message,
        /^SFT of the merged checkpoint: training diverged at step 1 of 2 \(epoch 1\): .*; no checkpoint was written to .*merged; lower --sft-lr$/,
      );
      return true;
    },
  );
  assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`), "nothing written");
  // the same rows with a sane learning rate give a checkpoint
  sftMergeSave(model, ROWS, SETTINGS, out, () => {});
  assert.ok(fs.existsSync(path.join(out, "model.safetensors")));
});
