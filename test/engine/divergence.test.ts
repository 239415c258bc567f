/** A diverging training (huge learning rate or LoRA alpha) stops with a TrainingDivergedError; no NaN gets out. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TrainingDivergedError } from "../../src/engine/divergence.js";
import { firstNonFinite } from "../../src/engine/finite.js";
import { adapterTensors, createLoraAdapter } from "../../src/engine/lora.js";
import { Rng } from "../../src/engine/random.js";
import { type StepReport, type TrainOptions, trainSft, weightTensors } from "../../src/engine/train.js";
import { randomTokens, tinyConfig, tinyModel } from "./tiny-model.js";

const config = tinyConfig("qwen2");
const rng = new Rng(11);
const examples = [0, 1].map(() => ({ tokens: randomTokens(rng, 12, config.vocabSize), lossMask: null }));

/** Trains a fresh adapter; returns the error it threw (null when none), the adapter and every step report. */
function trainLora(lora: { alpha?: number } = {}, options: Partial<TrainOptions> = {}) {
  const model = tinyModel(config, 3);
  const adapter = createLoraAdapter(
    config,
    { rank: 4, alpha: lora.alpha ?? 8, dropout: 0, targets: ["q_proj", "v_proj"] },
    new Rng(2),
  );
  const reports: StepReport[] = [];
  let error: unknown = null;
  try {
    trainSft(model, examples, { kind: "lora", adapter }, { epochs: 3, schedule: "constant", ...options }, (r) =>
      reports.push(r),
    );
  } catch (caught) {
    error = caught;
  }
  return { error, adapter, reports, model };
}

const noNonFinite = (tensors: Float32Array[]) => tensors.every((t) => firstNonFinite(t) === -1);

test("a huge learning rate stops training at its first update with a typed error; no NaN is reported", () => {
  const { error, adapter, reports } = trainLora({}, { lr: 1e30 });
  assert.ok(error instanceof TrainingDivergedError, `expected a TrainingDivergedError, got ${error}`);
  assert.deepEqual(
    { step: error.details.step, totalSteps: error.details.totalSteps, epoch: error.details.epoch },
    { step: 1, totalSteps: 6, epoch: 1 },
  );
  assert.equal(error.details.cause, "parameters", "the loss was finite; the update blew the adapter up");
  assert.ok(Number.isFinite(error.details.loss) && Number.isFinite(error.details.gradNorm));
  assert.match(error.message, /training diverged at step 1 of 6 \(epoch 1\).*lower the learning rate/);
  assert.equal(reports.length, 0, "the diverged step is not reported as a finished step");
  assert.ok(noNonFinite(adapterTensors(adapter)), "the adapter holds no NaN (an lr of 1e30 makes it huge, not NaN)");
});

test("a LoRA scale that overflows float32 gives a NaN loss: stopped before the update, the adapter untouched", () => {
  const { error, adapter, reports } = trainLora({ alpha: 1e308 }, { lr: 1e-3 });
  assert.ok(error instanceof TrainingDivergedError);
  assert.equal(error.details.cause, "loss");
  assert.equal(error.details.step, 1);
  assert.ok(Number.isNaN(error.details.loss));
  assert.equal(reports.length, 0);
  assert.ok(noNonFinite(adapterTensors(adapter)));
  assert.ok(
    adapterTensors(adapter)
      .filter((_, i) => i % 2 === 1)
      .every((b) => b.every((x) => x === 0)),
    "B is still its zero initialisation: no update ran",
  );
  const record = error.toRecord();
  assert.deepEqual(
    { ...record, error: "" },
    { step: 1, totalSteps: 6, epoch: 1, cause: "loss", loss: null, gradNorm: null, error: "" },
    "a JSON-safe record: NaN becomes null",
  );
  assert.equal(record.error, error.message);
  assert.equal(JSON.parse(JSON.stringify(record)).loss, null);
});

test("divergence is caught with clipping off too (the gradient norm is measured anyway)", () => {
  const { error } = trainLora({ alpha: 1e308 }, { lr: 1e-3, maxGradNorm: 0 });
  assert.ok(error instanceof TrainingDivergedError);
  assert.equal(error.details.step, 1);
});

test("a non-finite gradient norm under a finite loss stops training too, at its step and epoch", () => {
  // lr 1e9 leaves finite (large) weights after the first update; the second step's loss is still finite (the
  // attention saturates) but its gradient is not
  const { error, reports } = trainLora({}, { lr: 1e9, maxGradNorm: 0 });
  assert.ok(error instanceof TrainingDivergedError, `expected a divergence, got ${error}`);
  assert.deepEqual([error.details.step, error.details.epoch, error.details.cause], [2, 1, "gradient norm"]);
  assert.ok(Number.isFinite(error.details.loss));
  assert.match(error.message, /the gradient norm is NaN/);
  assert.equal(reports.length, 1);
  assert.ok(reports.every((r) => Number.isFinite(r.loss)));
});

test("full training with a huge learning rate stops too, naming the learning rate only", () => {
  const model = tinyModel(config, 4);
  assert.throws(
    () => trainSft(model, examples, { kind: "full" }, { epochs: 2, lr: 1e30 }),
    (error: unknown) =>
      error instanceof TrainingDivergedError &&
      error.details.step === 1 &&
      /lower the learning rate$/.test(error.message),
  );
});

test("withHint keeps the details and names the caller's flags", () => {
  const { error } = trainLora({}, { lr: 1e30 });
  assert.ok(error instanceof TrainingDivergedError);
  const wrapped = error.withHint("lower --lr", "seal train");
  assert.ok(wrapped instanceof TrainingDivergedError);
  assert.deepEqual(wrapped.details, error.details);
  assert.match(wrapped.message, /^seal train: training diverged at step 1 of 6 .*; lower --lr$/);
});

test("normal training is not flagged (weights stay finite)", () => {
  const { error, reports, model } = trainLora({}, { lr: 1e-3 });
  assert.equal(error, null);
  assert.equal(reports.length, 6);
  assert.ok(noNonFinite(weightTensors(model.weights)));
});
