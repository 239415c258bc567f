/**
 * The decode-step kernels against independent float64 loops: the small-M matmul on shapes that reach every path
 * (M ≤ 2 streaming, M ≥ 3 strips with K chunks of 1024, ragged N and K, unaligned buffers), attention of single
 * query tokens over cache rows (every head of a KV group at once), and the native logits scan behind argmax.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/engine/random.js";
import { argmax, sampleToken } from "../../src/engine/sampling.js";
import { native } from "../../src/native/index.js";
import * as ref from "./reference-ops.js";

/** x·Wᵀ in float64, one plain loop per output. */
function matmulReference(x: Float32Array, w: Float32Array, m: number, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let a = 0; a < m; a++)
    for (let o = 0; o < n; o++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += x[a * k + i] * w[o * k + i];
      out[a * n + o] = s;
    }
  return out;
}

/** A normal-filled Float32Array that starts `offset` floats into its buffer (so SIMD loads are unaligned). */
function randomAt(rng: Rng, n: number, offset: number): Float32Array {
  const buffer = new Float32Array(n + offset);
  return rng.fillNormal(buffer.subarray(offset), 1);
}

test("matmulSmallM matches a float64 loop for rows 1..17 on strips, K chunks and ragged edges", (t) => {
  const rng = new Rng(7);
  let worst = 0;
  // (N, K): K < 16; K = 903 (one chunk, tail 7); K = 2100 (chunks 1024 + 1024 + 52); N with 1..3 edge columns
  for (const [n, k] of [
    [9, 3],
    [130, 903],
    [301, 2100],
    [67, 17],
  ]) {
    for (let m = 1; m <= 17; m++) {
      const x = randomAt(rng, m * k, m % 3);
      const w = randomAt(rng, n * k, 1);
      const out = new Float32Array(m * n).fill(Number.NaN);
      native.matmulSmallM(out, x, w, m, n, k);
      const want = matmulReference(x, w, m, n, k);
      for (let i = 0; i < want.length; i++) {
        // a dot product of k normal terms: error relative to √k, the size of a typical term sum
        const error = Math.abs(out[i] - want[i]) / Math.sqrt(k);
        assert.ok(error < 1e-5, `m ${m} n ${n} k ${k}: out[${i}] = ${out[i]}, want ${want[i]}`);
        worst = Math.max(worst, error);
      }
    }
  }
  t.diagnostic(`matmulSmallM: worst |error|/√k ${worst.toExponential(2)}`);
});

test("attentionForward for one query token per cache slot matches the float64 reference", (t) => {
  const rng = new Rng(10);
  let worst = 0;
  // [heads, kvHeads, headDim]: Qwen2.5-0.5B's 14/2 × 64, 128 and 80 (64 + a 16 tail), 48 and 16 (no 64-wide slice)
  for (const [heads, kvHeads, headDim] of [
    [14, 2, 64],
    [4, 1, 128],
    [6, 3, 80],
    [4, 2, 48],
    [2, 2, 16],
  ]) {
    // one token per slot, each with its own key range: 1 key, block edges 15/16/17, 33, 200 and an empty range
    const counts = [1, 15, 16, 17, 33, 200, 0];
    const capacity = 203;
    const tokens = counts.length;
    const keyBase = Int32Array.from(counts, (_, s) => s * capacity + (s % 2));
    const keyCount = Int32Array.from(counts);
    const rows = tokens * capacity + 1;
    const q = randomAt(rng, tokens * heads * headDim, 0);
    const k = randomAt(rng, rows * kvHeads * headDim, 0);
    const v = randomAt(rng, rows * kvHeads * headDim, 0);
    const scale = 1 / Math.sqrt(headDim);
    const args = [keyBase, keyCount, tokens, heads, kvHeads, headDim, scale] as const;
    const want = ref.attention(q, k, v, ...args);
    const out = new Float32Array(tokens * heads * headDim).fill(Number.NaN);
    const lse = new Float32Array(tokens * heads).fill(Number.NaN);
    native.attentionForward(out, lse, q, k, v, ...args);
    const label = `heads ${heads}/${kvHeads} × ${headDim}`;
    worst = Math.max(worst, ref.relError(out, want.out));
    assert.ok(ref.relError(out, want.out) < 1e-5, `${label}: out`);
    for (let i = 0; i < lse.length; i++) {
      const ok = Number.isFinite(want.lse[i])
        ? Math.abs(lse[i] - want.lse[i]) < 1e-5 * (1 + Math.abs(want.lse[i]))
        : lse[i] === want.lse[i];
      assert.ok(ok, `${label}: lse[${i}] = ${lse[i]}, want ${want.lse[i]}`);
    }
    const outNoLse = new Float32Array(out.length);
    native.attentionForward(outNoLse, null, q, k, v, ...args);
    assert.deepEqual(outNoLse, out);
  }
  t.diagnostic(`attention decode: worst rel error ${worst.toExponential(2)}`);
});

/** The scan's contract in plain JavaScript: argmax (lowest index), -1 on NaN, -2 when nothing is finite. */
function scanReference(x: Float32Array): [number, number] {
  let best = -2;
  let finite = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i])) return [-1, -1];
    if (x[i] > Number.NEGATIVE_INFINITY) finite++;
    if (x[i] > Number.NEGATIVE_INFINITY && (best < 0 || x[i] > x[best])) best = i;
  }
  return [best, finite];
}

test("logitsScan finds the lowest index of the max, counts finite logits and flags NaN", () => {
  const rng = new Rng(8);
  const stats = new Int32Array(2);
  for (const n of [1, 15, 4095, 4109, 151936]) {
    for (const kind of ["plain", "ties", "-inf", "+inf", "nan", "all -inf"]) {
      const x = randomAt(rng, n, n % 5);
      if (kind === "ties") x[n >> 1] = x[n - 1] = x[Math.floor(n / 3)] = 9;
      if (kind === "-inf") for (let i = 0; i < n; i += 3) x[i] = Number.NEGATIVE_INFINITY;
      if (kind === "+inf") x[n - 1] = x[n >> 2] = Number.POSITIVE_INFINITY;
      if (kind === "nan") x[rng.int(n)] = Number.NaN;
      if (kind === "all -inf") x.fill(Number.NEGATIVE_INFINITY);
      native.logitsScan(x, stats);
      const [best, finite] = scanReference(x);
      assert.equal(stats[0], best, `${kind}, n ${n}: argmax`);
      if (best !== -1) assert.equal(stats[1], finite, `${kind}, n ${n}: finite count`);
    }
  }
});

test("argmax and greedy sampling over a vocabulary-sized row use the scan with the same results and errors", () => {
  const rng = new Rng(9);
  const x = randomAt(rng, 151936, 0);
  x[70000] = x[90000] = 50;
  assert.equal(argmax(x), 70000);
  assert.equal(sampleToken(x, { temperature: 0, topP: 1, topK: 0 }, rng), 70000);
  x[123456] = Number.POSITIVE_INFINITY;
  assert.equal(argmax(x), 123456);
  assert.throws(() => sampleToken(x, { temperature: 0, topP: 1, topK: 0 }, rng), /logits\[123456\] is \+Infinity/);
  x[5] = Number.NaN;
  assert.throws(() => argmax(x), /logits\[5\] is NaN/);
  x.fill(Number.NEGATIVE_INFINITY);
  assert.throws(() => argmax(x), /all 151936 logits are -Infinity/);
});
