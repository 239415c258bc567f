import assert from "node:assert/strict";
import { test } from "node:test";
import {
  isScheduleName,
  learningRateAt,
  learningRateMultiplier,
  type ScheduleName,
  warmupStepsFromRatio,
} from "../../src/engine/schedule.js";

const baseLr = 1e-3;
const lr = (schedule: ScheduleName, step: number, warmupSteps = 10, totalSteps = 100) =>
  learningRateAt(step, { schedule, baseLr, warmupSteps, totalSteps });

function near(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-15 + 1e-12 * Math.abs(expected), message ?? `${actual} ≠ ${expected}`);
}

test("constant ignores warmup, as HF's get_scheduler('constant') does", () => {
  for (const step of [0, 1, 5, 10, 99, 100, 500]) assert.equal(lr("constant", step), baseLr);
});

test("constant_with_warmup: step / warmup, then 1", () => {
  assert.equal(lr("constant_with_warmup", 0), 0);
  near(lr("constant_with_warmup", 1), 1e-4);
  near(lr("constant_with_warmup", 5), 5e-4);
  near(lr("constant_with_warmup", 9), 9e-4);
  assert.equal(lr("constant_with_warmup", 10), baseLr);
  assert.equal(lr("constant_with_warmup", 99), baseLr);
});

test("linear: warmup, then (total − step) / (total − warmup), clamped at 0", () => {
  assert.equal(lr("linear", 0), 0, "HF's first update (LambdaLR at step 0) has lr 0 when warmup > 0");
  near(lr("linear", 3), 3e-4);
  near(lr("linear", 10), 1e-3); // 90 / 90
  near(lr("linear", 55), 5e-4); // 45 / 90
  near(lr("linear", 99), 1e-3 / 90); // the last of 100 updates
  assert.equal(lr("linear", 100), 0);
  assert.equal(lr("linear", 150), 0);
  // No warmup: the first update uses the full lr.
  near(lr("linear", 0, 0, 4), 1e-3);
  near(lr("linear", 1, 0, 4), 0.75e-3);
  near(lr("linear", 3, 0, 4), 0.25e-3);
});

test("cosine: warmup, then half a cosine down to 0", () => {
  assert.equal(lr("cosine", 0), 0);
  near(lr("cosine", 4), 4e-4);
  near(lr("cosine", 10), 1e-3); // progress 0: 0.5 · (1 + cos 0)
  near(lr("cosine", 32), 1e-3 * 0.8596699001693255); // 0.5 · (1 + cos(π · 22/90))
  near(lr("cosine", 55), 5e-4); // progress 0.5: 0.5 · (1 + cos(π/2))
  near(lr("cosine", 99), 1e-3 * 0.00030458649045211894); // 0.5 · (1 − cos(π/90))
  near(lr("cosine", 100), 0);
  // Past the end HF's formula rises again; we reproduce it (progress 1.5 → 0.5).
  near(lr("cosine", 145), 1e-3 * 0.4999999999999999);
  // No warmup.
  near(lr("cosine", 0, 0, 2), 1e-3);
  near(lr("cosine", 1, 0, 2), 5e-4);
});

test("warmup longer than the run, and a zero-length warmup guard (max(1, warmup))", () => {
  near(lr("linear", 5, 20, 10), 2.5e-4);
  assert.equal(lr("linear", 25, 20, 10), 0); // (10 − 25) / max(1, −10) clamped to 0
  assert.equal(learningRateMultiplier(0, { schedule: "constant_with_warmup", warmupSteps: 0, totalSteps: 0 }), 1);
  assert.equal(learningRateMultiplier(0, { schedule: "linear", warmupSteps: 0, totalSteps: 0 }), 0);
});

test("warmupStepsFromRatio is ceil(total · ratio), float quirks included", () => {
  assert.equal(warmupStepsFromRatio(0.1, 50), 5);
  assert.equal(warmupStepsFromRatio(0.03, 100), 3);
  assert.equal(warmupStepsFromRatio(0.07, 100), 8); // 100 · 0.07 = 7.000000000000001 in float64, as in Python
  assert.equal(warmupStepsFromRatio(0.1, 7), 1);
  assert.equal(warmupStepsFromRatio(0, 100), 0);
  assert.equal(warmupStepsFromRatio(1, 12), 12);
  assert.throws(() => warmupStepsFromRatio(1.5, 10), /warmup ratio/);
  assert.throws(() => warmupStepsFromRatio(0.1, -1), /totalSteps/);
});

test("invalid inputs are rejected", () => {
  assert.throws(() => lr("linear", -1), /step/);
  assert.throws(() => lr("linear", 1.5), /step/);
  assert.throws(() => lr("linear", 1, -2), /warmupSteps/);
  assert.throws(() => learningRateAt(0, { schedule: "linear", baseLr: -1, warmupSteps: 0, totalSteps: 1 }), /baseLr/);
  assert.throws(
    () => learningRateAt(0, { schedule: "polynomial" as ScheduleName, baseLr: 1, warmupSteps: 0, totalSteps: 1 }),
    /unknown learning-rate schedule "polynomial"/,
  );
  assert.equal(isScheduleName("cosine"), true);
  assert.equal(isScheduleName("cosine_with_restarts"), false);
});
