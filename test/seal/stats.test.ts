import assert from "node:assert/strict";
import { test } from "node:test";
import {
  logGamma,
  macroMean,
  mean,
  meanConfidenceInterval,
  microMean,
  normalQuantile,
  pairedDifferenceInterval,
  populationStd,
  sampleStd,
  standardError,
  studentTCdf,
  studentTQuantile,
} from "../../src/seal/stats.js";

const close = (actual: number, expected: number, tolerance: number) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} vs ${expected} (±${tolerance})`);

test("mean and standard deviations", () => {
  const values = [2, 4, 4, 4, 5, 5, 7, 9];
  assert.equal(mean(values), 5);
  assert.equal(populationStd(values), 2);
  close(sampleStd(values), Math.sqrt(32 / 7), 1e-15);
  close(standardError(values), Math.sqrt(32 / 7) / Math.sqrt(8), 1e-15);
  assert.equal(sampleStd([1, 1]), 0);
  assert.throws(() => mean([]), /at least one/);
  assert.throws(() => sampleStd([1]), /at least two/);
});

test("macro vs micro mean", () => {
  const groups = [[1, 0, 0, 0], [1]];
  assert.equal(macroMean(groups), (0.25 + 1) / 2);
  assert.equal(microMean(groups), 2 / 5);
  assert.throws(() => macroMean([[1], []]), /group 1 is empty/);
  assert.throws(() => macroMean([]), /at least one group/);
  assert.throws(() => microMean([[], []]), /at least one/);
});

test("logGamma matches known values", () => {
  close(logGamma(1), 0, 1e-14);
  close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-14);
  close(logGamma(5), Math.log(24), 1e-13);
  close(logGamma(100.5), 361.4355404677776, 1e-10);
  close(logGamma(3.7), 1.4280723266653883, 1e-13);
});

test("Student t quantiles match tables", () => {
  // Two-sided 95% critical values t_{0.975, df}.
  const table: [number, number][] = [
    [1, 12.706204736],
    [2, 4.30265273],
    [4, 2.776445105],
    [9, 2.262157163],
    [29, 2.045229642],
    [199, 1.971956544],
  ];
  for (const [df, expected] of table) close(studentTQuantile(0.975, df), expected, 1e-7);
  close(studentTQuantile(0.995, 10), 3.169272673, 1e-7);
  close(studentTQuantile(0.025, 9), -2.262157163, 1e-7);
  close(studentTQuantile(0.5, 3), 0, 1e-12);
  close(studentTCdf(0, 5), 0.5, 1e-15);
  close(studentTCdf(1, 1), 0.75, 1e-12); // Cauchy: 1/2 + atan(1)/π
  close(studentTQuantile(0.975, Number.POSITIVE_INFINITY), 1.959963985, 1e-8);
});

test("normal quantiles", () => {
  close(normalQuantile(0.975), 1.959963985, 1e-8);
  close(normalQuantile(0.95), 1.644853627, 1e-8);
  close(normalQuantile(0.995), 2.575829304, 1e-8);
  close(normalQuantile(0.001), -3.090232306, 1e-7);
  close(normalQuantile(0.5), 0, 1e-15);
  assert.throws(() => normalQuantile(1), /p must be/);
});

test("confidence interval of a mean: t by default, normal on request", () => {
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const t = meanConfidenceInterval(values);
  const se = sampleStd(values) / Math.sqrt(10);
  assert.equal(t.mean, 5.5);
  assert.equal(t.method, "t");
  assert.equal(t.level, 0.95);
  assert.equal(t.n, 10);
  close(t.halfWidth, 2.262157163 * se, 1e-8);
  close(t.lower, 5.5 - t.halfWidth, 1e-15);
  close(t.upper, 5.5 + t.halfWidth, 1e-15);
  const normal = meanConfidenceInterval(values, { method: "normal", level: 0.9 });
  close(normal.halfWidth, 1.644853627 * se, 1e-8);
  assert.ok(normal.halfWidth < t.halfWidth);
  assert.throws(() => meanConfidenceInterval([1]), /at least two/);
  assert.throws(() => meanConfidenceInterval(values, { level: 1 }), /level/);
});

test("paired difference interval: the interval of the per-pair differences, missing pairs dropped", () => {
  const a = [0.5, 0.2, null, 0.9, 0.4];
  const b = [0.3, 0.1, 0.7, 0.6, null];
  const paired = pairedDifferenceInterval(a, b);
  const direct = meanConfidenceInterval([0.2, 0.1, 0.3]);
  assert.equal(paired.n, 3);
  close(paired.mean, 0.2, 1e-15);
  close(paired.halfWidth, direct.halfWidth, 1e-15);
  // a shared per-pair offset cancels: wide side-by-side intervals, a narrow paired one
  const base = [0.1, 0.5, 0.9, 0.3, 0.7];
  const shifted = base.map((x) => x + 0.05);
  assert.ok(meanConfidenceInterval(base).halfWidth > 0.2);
  close(pairedDifferenceInterval(shifted, base).halfWidth, 0, 1e-12);
  assert.throws(() => pairedDifferenceInterval([1, 2], [1]), /2 values against 1/);
});
