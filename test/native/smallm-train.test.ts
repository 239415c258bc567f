/**
 * The small-M training kernels (native/kernels_smallm_train.c) against the float64 reference on odd shapes: every
 * row count up to 17 and a few larger ones, widths that are not multiples of 16 or 64, depths across the chunk
 * edge (128), offsets into larger buffers, overwrite and accumulate. Shapes large enough to run threaded are mixed in.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { linearBackwardInput, linearForward } from "../../src/engine/linear.js";
import { Rng } from "../../src/engine/random.js";
import { native } from "../../src/native/index.js";
import * as ref from "./reference-ops.js";

function randn(rng: Rng, n: number): Float32Array {
  return rng.fillNormal(new Float32Array(n), 1);
}

const ROWS = [...Array.from({ length: 17 }, (_, i) => i + 1), 31, 64, 70];
// [n, k]: out columns, depth; 200 × 300 runs threaded from 5 rows on
const SHAPES: [number, number][] = [
  [1, 1],
  [5, 3],
  [37, 131],
  [64, 128],
  [130, 129],
  [200, 300],
];

test("matmulNnSmallM: out (+)= a·w over odd shapes, offsets, overwrite and accumulate", (t) => {
  const rng = new Rng(71);
  let worst = 0;
  for (const [n, k] of SHAPES) {
    const w = randn(rng, k * n);
    for (const m of ROWS) {
      for (const accumulate of [false, true]) {
        // a and out sit at odd offsets inside larger buffers, whose margins must stay untouched
        const aBuf = randn(rng, m * k + 7);
        const a = aBuf.subarray(3, 3 + m * k);
        const outBuf = randn(rng, m * n + 10);
        const before = outBuf.slice();
        const out = outBuf.subarray(5, 5 + m * n);
        if (!accumulate) out.fill(Number.NaN); // overwrite must not read out
        const start = Float64Array.from(out, (v) => (Number.isNaN(v) ? 0 : v));
        native.matmulNnSmallM(out, a, w, m, n, k, accumulate);
        const want = ref.sgemm(false, false, m, n, k, 1, a, k, w, n, accumulate ? 1 : 0, start, n);
        worst = Math.max(worst, ref.relError(out, want));
        for (const i of [0, 1, 2, 3, 4, 5 + m * n, 6 + m * n, 14 + m * n])
          assert.equal(outBuf[i], before[i], `m=${m} n=${n} k=${k}: wrote outside out at ${i}`);
      }
    }
  }
  t.diagnostic(`matmulNnSmallM worst rel error ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `rel error ${worst}`);
});

test("matmulNtSmallM: out = x·wᵀ over odd shapes and offsets", (t) => {
  const rng = new Rng(73);
  let worst = 0;
  for (const [n, k] of SHAPES) {
    const w = randn(rng, n * k);
    for (const m of ROWS) {
      const xBuf = randn(rng, m * k + 7);
      const x = xBuf.subarray(3, 3 + m * k);
      const outBuf = randn(rng, m * n + 10);
      const before = outBuf.slice();
      const out = outBuf.subarray(5, 5 + m * n).fill(Number.NaN);
      native.matmulNtSmallM(out, x, w, m, n, k);
      const want = ref.sgemm(false, true, m, n, k, 1, x, k, w, k, 0, new Float64Array(m * n), n);
      worst = Math.max(worst, ref.relError(out, want));
      for (const i of [0, 1, 2, 3, 4, 5 + m * n, 6 + m * n, 14 + m * n])
        assert.equal(outBuf[i], before[i], `m=${m} n=${n} k=${k}: wrote outside out at ${i}`);
    }
  }
  t.diagnostic(`matmulNtSmallM worst rel error ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `rel error ${worst}`);
});

test("matmulNnSmallM: depth 0 gives zeros (or leaves out when accumulating)", () => {
  const out = new Float32Array(6).fill(3);
  native.matmulNnSmallM(out, new Float32Array(0), new Float32Array(0), 2, 3, 0, true);
  assert.deepEqual([...out], [3, 3, 3, 3, 3, 3]);
  native.matmulNnSmallM(out, new Float32Array(0), new Float32Array(0), 2, 3, 0, false);
  assert.deepEqual([...out], [0, 0, 0, 0, 0, 0]);
});

test("the kernels report AVX-512 where the CPU has it", () => {
  const avx512 = /\bavx512f\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  if (avx512) assert.equal(native.smallMTrainVectorized(), true);
});

test("matmulNnSmallM and matmulNtSmallM reject buffers too small for the shape", () => {
  const a = new Float32Array(6);
  const w = new Float32Array(12);
  assert.throws(() => native.matmulNnSmallM(new Float32Array(7), a, w, 2, 4, 3, false), RangeError);
  assert.throws(() => native.matmulNnSmallM(new Float32Array(8), a, w.subarray(1), 2, 4, 3, false), RangeError);
  assert.throws(() => native.matmulNtSmallM(new Float32Array(7), a, w, 2, 4, 3), RangeError);
  assert.throws(() => native.matmulNtSmallM(new Float32Array(8), a.subarray(1), w, 2, 4, 3), RangeError);
});

test("linearBackwardInput and linearForward equal sgemm on both sides of the kernels' row limits", (t) => {
  const rng = new Rng(72);
  const inDim = 45;
  const outDim = 70;
  const w = randn(rng, outDim * inDim);
  const bias = randn(rng, outDim);
  for (const rows of [1, 16, 17, 64, 128, 129, 512, 513]) {
    const dout = randn(rng, rows * outDim);
    const dx = randn(rng, rows * inDim);
    const want = dx.slice();
    native.sgemm(false, false, rows, inDim, outDim, 1, dout, outDim, w, inDim, 1, want, inDim);
    linearBackwardInput(dx, dout, w, rows, inDim, outDim, true);
    const x = randn(rng, rows * inDim);
    const y = new Float32Array(rows * outDim);
    const wantY = new Float32Array(rows * outDim);
    for (let r = 0; r < rows; r++) wantY.set(bias, r * outDim);
    native.sgemm(false, true, rows, outDim, inDim, 1, x, inDim, w, inDim, 1, wantY, outDim);
    linearForward(y, x, w, bias, rows, inDim, outDim);
    const errors = [ref.relError(dx, want), ref.relError(y, wantY)];
    t.diagnostic(`rows ${rows}: rel error vs sgemm ${errors.map((e) => e.toExponential(2)).join(" (dx), ")} (y)`);
    assert.ok(Math.max(...errors) < 1e-5);
  }
});
