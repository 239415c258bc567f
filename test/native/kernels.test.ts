/**
 * Every native kernel's forward against the float64 reference (reference-ops.ts) on random inputs of awkward
 * sizes, plus dropout statistics, the fast exp's accuracy and the addon's argument validation.
 * Observed errors go to the test diagnostics (`node --test` prints them).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { Rng } from "../../src/engine/random.js";
import { native } from "../../src/native/index.js";
import * as ref from "./reference-ops.js";

function randn(rng: Rng, n: number, std = 1): Float32Array {
  return rng.fillNormal(new Float32Array(n), std);
}

function assertClose(t: { diagnostic(message: string): void }, label: string, error: number, tolerance: number) {
  t.diagnostic(`${label}: rel error ${error.toExponential(2)} (tolerance ${tolerance})`);
  assert.ok(error < tolerance, `${label}: rel error ${error} ≥ ${tolerance}`);
}

test("sgemm: all four transpose combinations, padded leading dimensions, alpha/beta", (t) => {
  const rng = new Rng(1);
  for (const [m, n, k] of [
    [13, 17, 19],
    [70, 45, 131],
  ]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const lda = (transA ? m : k) + 5;
        const ldb = (transB ? k : n) + 3;
        const ldc = n + 4;
        const a = randn(rng, (transA ? k : m) * lda);
        const b = randn(rng, (transB ? n : k) * ldb);
        const c = randn(rng, m * ldc);
        const alpha = 0.7;
        const beta = -0.3;
        const want = ref.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        const got = Float32Array.from(c);
        native.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc);
        assertClose(t, `sgemm ${m}x${n}x${k} transA=${transA} transB=${transB}`, ref.relError(got, want), 1e-5);
        for (let i = 0; i < m; i++)
          for (let j = n; j < ldc && i * ldc + j < c.length; j++)
            assert.equal(got[i * ldc + j], c[i * ldc + j], "sgemm wrote into C's padding");
      }
    }
  }
});

test("sgemm: beta = 0 ignores whatever C held (NaN included)", () => {
  const rng = new Rng(2);
  const [m, n, k] = [5, 7, 3];
  const a = randn(rng, m * k);
  const b = randn(rng, k * n);
  const c = new Float32Array(m * n).fill(Number.NaN);
  native.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
  const want = ref.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, new Float64Array(m * n), n);
  assert.ok(ref.relError(c, want) < 1e-6);
});

test("matmulSmallM equals x·Wᵀ for every row count up to 16 and ragged N, K", (t) => {
  const rng = new Rng(40);
  let worst = 0;
  for (const [n, k] of [
    [4, 16],
    [37, 53],
    [130, 896 + 7],
  ]) {
    for (let m = 1; m <= 16; m++) {
      const x = randn(rng, m * k);
      const w = randn(rng, n * k);
      const out = new Float32Array(m * n).fill(Number.NaN);
      native.matmulSmallM(out, x, w, m, n, k);
      const want = ref.sgemm(false, true, m, n, k, 1, x, k, w, k, 0, new Float64Array(m * n), n);
      worst = Math.max(worst, ref.relError(out, want));
    }
  }
  assertClose(t, "matmulSmallM", worst, 1e-5);
});

test("rmsnorm_forward matches the reference (with and without rstd)", (t) => {
  const rng = new Rng(3);
  const rows = 5;
  const dim = 37;
  const eps = 1e-6;
  const x = randn(rng, rows * dim, 2);
  const w = Float32Array.from(randn(rng, dim, 0.2), (v) => 1 + v);
  const want = ref.rmsnorm(x, w, rows, dim, eps);
  const out = new Float32Array(rows * dim);
  const rstd = new Float32Array(rows);
  native.rmsnormForward(out, rstd, x, w, rows, dim, eps);
  assertClose(t, "rmsnorm out", ref.relError(out, want.out), 1e-6);
  assertClose(t, "rmsnorm rstd", ref.relError(rstd, want.rstd), 1e-6);
  const out2 = new Float32Array(rows * dim);
  native.rmsnormForward(out2, null, x, w, rows, dim, eps);
  assert.deepEqual(out2, out);
});

test("rope_apply matches the reference, and the inverse undoes it", (t) => {
  const rng = new Rng(4);
  const tokens = 7;
  const heads = 3;
  const headDim = 10;
  const maxPos = 40;
  const { cos, sin } = ref.ropeTables(maxPos, headDim);
  const positions = Int32Array.from({ length: tokens }, () => rng.int(maxPos));
  positions[0] = maxPos - 1;
  const x = randn(rng, tokens * heads * headDim);
  const got = Float32Array.from(x);
  native.ropeApply(got, positions, cos, sin, tokens, heads, headDim, 1);
  const want = ref.rope(x, positions, cos, sin, tokens, heads, headDim, 1);
  assertClose(t, "rope forward", ref.relError(got, want), 1e-6);
  const inverse = Float32Array.from(x);
  native.ropeApply(inverse, positions, cos, sin, tokens, heads, headDim, -1);
  assertClose(
    t,
    "rope inverse",
    ref.relError(inverse, ref.rope(x, positions, cos, sin, tokens, heads, headDim, -1)),
    1e-6,
  );
  native.ropeApply(got, positions, cos, sin, tokens, heads, headDim, -1);
  assertClose(t, "rope forward then inverse", ref.relError(got, x), 1e-6);
});

interface AttentionCase {
  label: string;
  tokens: number;
  keyRows: number;
  keyBase: Int32Array;
  keyCount: Int32Array;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** std of q: large values make the softmax sharp (scores of ±20 and more) */
  qStd?: number;
}

function packedCase(label: string, lengths: number[], heads: number, kvHeads: number, headDim: number): AttentionCase {
  const { keyBase, keyCount } = ref.causalRanges(lengths);
  const tokens = keyBase.length;
  return { label, tokens, keyRows: tokens, keyBase, keyCount, heads, kvHeads, headDim };
}

test("attention_forward matches the reference (packed sequences, GQA/MHA, KV-cache ranges)", (t) => {
  const rng = new Rng(5);
  const cases: AttentionCase[] = [
    packedCase("packed GQA group 3", [5, 1, 8, 3], 6, 2, 7),
    packedCase("packed MHA", [5, 1, 8, 3], 4, 4, 16),
    packedCase("packed GQA group 4", [1, 9, 2], 8, 2, 9),
    { ...packedCase("sharp softmax", [7, 1, 12], 2, 1, 8), qStd: 8 },
    {
      // decode-style: a 24-row cache whose sequence starts at row 5; queries see 9..12 keys, plus one at row 0
      label: "KV cache, range starting mid-buffer",
      tokens: 5,
      keyRows: 24,
      keyBase: Int32Array.from([5, 5, 5, 5, 0]),
      keyCount: Int32Array.from([9, 10, 11, 12, 1]),
      heads: 4,
      kvHeads: 2,
      headDim: 12,
    },
  ];
  for (const c of cases) {
    const q = randn(rng, c.tokens * c.heads * c.headDim, c.qStd ?? 1);
    const k = randn(rng, c.keyRows * c.kvHeads * c.headDim);
    const v = randn(rng, c.keyRows * c.kvHeads * c.headDim);
    const scale = 1 / Math.sqrt(c.headDim);
    const args = [c.keyBase, c.keyCount, c.tokens, c.heads, c.kvHeads, c.headDim, scale] as const;
    const want = ref.attention(q, k, v, ...args);
    const out = new Float32Array(c.tokens * c.heads * c.headDim);
    const lse = new Float32Array(c.tokens * c.heads);
    native.attentionForward(out, lse, q, k, v, ...args);
    assertClose(t, `attention out, ${c.label}`, ref.relError(out, want.out), 1e-5);
    assertClose(t, `attention lse, ${c.label}`, ref.relError(lse, want.lse), 1e-5);
    const outNoLse = new Float32Array(out.length);
    native.attentionForward(outNoLse, null, q, k, v, ...args);
    assert.deepEqual(outNoLse, out);
  }
});

test("attention_forward: an empty key range gives a zero output and lse = -inf", () => {
  const q = new Float32Array(8).fill(1);
  const k = new Float32Array(8).fill(1);
  const v = new Float32Array(8).fill(1);
  const out = new Float32Array(8).fill(5);
  const lse = new Float32Array(2);
  native.attentionForward(out, lse, q, k, v, Int32Array.from([1, 2]), Int32Array.from([0, 0]), 2, 1, 1, 4, 0.5);
  assert.deepEqual(Array.from(out), new Array(8).fill(0));
  assert.deepEqual(Array.from(lse), [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
});

test("swiglu_forward matches the reference", (t) => {
  const rng = new Rng(6);
  const n = 1001;
  const gate = randn(rng, n, 3);
  const up = randn(rng, n);
  const out = new Float32Array(n);
  native.swigluForward(out, gate, up, n);
  assertClose(t, "swiglu", ref.relError(out, ref.swiglu(gate, up)), 1e-6);
});

test("fast exp: relative accuracy through swiglu and cross-entropy", (t) => {
  // silu(g)·1 = g/(1 + e^(−g)); for g ≪ 0 its relative error is the exp's relative error.
  const n = 20001;
  const gate = Float32Array.from({ length: n }, (_, i) => -85 + (170 * i) / (n - 1));
  const up = new Float32Array(n).fill(1);
  const out = new Float32Array(n);
  native.swigluForward(out, gate, up, n);
  const want = ref.swiglu(gate, up);
  let worst = 0;
  for (let i = 0; i < n; i++)
    if (want[i] !== 0) worst = Math.max(worst, Math.abs(out[i] - want[i]) / Math.abs(want[i]));
  assertClose(t, "fast exp via swiglu, max per-element relative error over g ∈ [-85, 85]", worst, 1e-6);

  // cross-entropy of one-hot-ish rows: the loss is −log softmax, exp(−loss) is the probability of the target.
  const rng = new Rng(7);
  const rows = 64;
  const vocab = 129;
  const logits = Float32Array.from({ length: rows * vocab }, () => (rng.uniform() * 2 - 1) * 30);
  const targets = Int32Array.from({ length: rows }, () => rng.int(vocab));
  const losses = new Float32Array(rows);
  native.crossEntropy(Float32Array.from(logits), losses, targets, rows, vocab, 0);
  const wantLoss = ref.crossEntropy(logits, targets, rows, vocab).losses;
  let worstLoss = 0;
  for (let r = 0; r < rows; r++)
    worstLoss = Math.max(worstLoss, Math.abs(losses[r] - wantLoss[r]) / Math.max(1, Math.abs(wantLoss[r])));
  assertClose(t, "fast exp via cross-entropy losses (logits ±30)", worstLoss, 1e-6);
});

test("cross_entropy: losses, ignored rows, and the gradScale·(softmax − onehot) gradient", (t) => {
  const rng = new Rng(8);
  const rows = 9;
  const vocab = 1003;
  const logits = randn(rng, rows * vocab, 2);
  const targets = Int32Array.from({ length: rows }, () => rng.int(vocab));
  targets[2] = -1;
  targets[6] = -100;
  targets[0] = vocab - 1;
  const want = ref.crossEntropy(logits, targets, rows, vocab);

  const kept = Float32Array.from(logits);
  const losses = new Float32Array(rows).fill(7);
  native.crossEntropy(kept, losses, targets, rows, vocab, 0);
  assert.deepEqual(kept, logits, "gradScale 0 must leave the logits alone");
  assertClose(t, "cross-entropy losses", ref.relError(losses, want.losses), 1e-6);
  assert.equal(losses[2], 0);
  assert.equal(losses[6], 0);

  const gradScale = 1 / 7;
  const grad = Float32Array.from(logits);
  native.crossEntropy(grad, losses, targets, rows, vocab, gradScale);
  const wantGrad = want.grad.map((g) => g * gradScale);
  assertClose(t, "cross-entropy gradient", ref.relError(grad, wantGrad), 1e-5);
  for (const r of [2, 6]) for (let i = 0; i < vocab; i++) assert.equal(grad[r * vocab + i], 0);
});

test("adamw_step follows torch.optim.AdamW over several steps", (t) => {
  const rng = new Rng(9);
  const n = 257;
  const param = randn(rng, n);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const p64 = Float64Array.from(param);
  const m64 = new Float64Array(n);
  const v64 = new Float64Array(n);
  // The betas stay doubles (the addon forms 1 − β in double, as PyTorch does); lr, eps and wd are float32 there.
  const [lr, eps, weightDecay] = [1e-2, 1e-8, 0.1].map(Math.fround);
  const [beta1, beta2] = [0.9, 0.999];
  let worst = 0;
  let worstUpdate = 0;
  for (let step = 1; step <= 6; step++) {
    const grad = randn(rng, n, step === 3 ? 1e-3 : 1);
    // both start the step from the kernel's float32 parameters, so the updates can be compared on their own
    p64.set(param);
    const before = Float64Array.from(param);
    native.adamwStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    ref.adamwStep(p64, grad, m64, v64, lr, beta1, beta2, eps, weightDecay, step);
    worst = Math.max(worst, ref.relError(param, p64), ref.relError(m, m64), ref.relError(v, v64));
    const update = Float64Array.from(param, (x, i) => x - before[i]);
    const wantUpdate = Float64Array.from(p64, (x, i) => x - before[i]);
    worstUpdate = Math.max(worstUpdate, ref.relError(update, wantUpdate));
  }
  assertClose(t, "adamw param/m/v over 6 steps", worst, 1e-6);
  // the update is ~lr, so float32 rounding of the O(1) parameter limits this to ~1e-5
  assertClose(t, "adamw per-step update (param − previous param)", worstUpdate, 1e-4);
});

test("embedding forward gathers rows; backward scatter-adds (repeated ids accumulate)", () => {
  const rng = new Rng(10);
  const vocab = 11;
  const dim = 13;
  const table = randn(rng, vocab * dim);
  const ids = Int32Array.from([3, 0, 10, 3, 3, 7]);
  const out = new Float32Array(ids.length * dim);
  native.embeddingForward(out, table, ids, ids.length, dim);
  assert.deepEqual(Array.from(out), Array.from(ref.embedding(table, ids, dim)));

  const dtable = randn(rng, vocab * dim);
  const dout = randn(rng, ids.length * dim);
  const want = ref.embeddingScatterAdd(dtable, dout, ids, dim);
  native.embeddingBackward(dtable, dout, ids, ids.length, dim);
  assert.ok(ref.relError(dtable, want) < 1e-6);
});

test("bias forward adds per row; backward accumulates column sums", () => {
  const rng = new Rng(11);
  const rows = 7;
  const dim = 19;
  const x = randn(rng, rows * dim);
  const bias = randn(rng, dim);
  const got = Float32Array.from(x);
  native.biasForward(got, bias, rows, dim);
  // one float32 addition is correctly rounded, so this is exact
  assert.deepEqual(Array.from(got), Array.from(ref.biasAdd(x, bias, rows, dim), Math.fround));

  const dbias = randn(rng, dim);
  const want = ref.axpy(dbias, ref.columnSums(x, rows, dim), 1);
  native.biasBackward(dbias, x, rows, dim);
  assert.ok(ref.relError(dbias, want) < 1e-6);
});

test("vec ops: add, axpy, scale, mul, sum of squares (small and parallel sizes)", () => {
  const rng = new Rng(12);
  for (const n of [7, 100003]) {
    const a = randn(rng, n);
    const b = randn(rng, n);
    let got = Float32Array.from(a);
    native.vecAdd(got, b);
    assert.ok(ref.relError(got, ref.axpy(a, b, 1)) < 1e-7);
    got = Float32Array.from(a);
    native.vecAxpy(got, b, -0.37);
    assert.ok(ref.relError(got, ref.axpy(a, b, -0.37)) < 1e-6);
    got = Float32Array.from(a);
    native.vecScale(got, 1.7);
    assert.ok(ref.relError(got, ref.axpy(new Float64Array(n), a, 1.7)) < 1e-6);
    got = Float32Array.from(a);
    native.vecMul(got, b);
    assert.ok(
      ref.relError(
        got,
        Float64Array.from(a, (x, i) => x * b[i]),
      ) < 1e-7,
    );
    const sumSquares = native.vecSumSquares(a);
    // float lanes within blocks of 4096, blocks summed in double: float-level relative accuracy
    assert.ok(Math.abs(sumSquares - ref.dot(a, a)) < 1e-6 * ref.dot(a, a));
  }
});

test("dropout: mask values, kept fraction, seed determinism", (t) => {
  const rng = new Rng(13);
  const n = 100000;
  const p = 0.3;
  const x = randn(rng, n);
  const out = new Float32Array(n);
  const mask = new Float32Array(n);
  native.dropoutForward(out, mask, x, p, 1234);
  const keep = Math.fround(1 / (1 - p));
  let kept = 0;
  for (let i = 0; i < n; i++) {
    assert.ok(mask[i] === 0 || mask[i] === keep, `mask[${i}] = ${mask[i]}`);
    assert.equal(out[i], Math.fround(x[i] * mask[i]));
    if (mask[i] !== 0) kept++;
  }
  t.diagnostic(`dropout p=${p}: kept fraction ${kept / n}`);
  // σ of the fraction is √(p(1−p)/n) ≈ 0.0014
  assert.ok(Math.abs(kept / n - (1 - p)) < 0.01, `kept fraction ${kept / n}`);

  const mask2 = new Float32Array(n);
  native.dropoutForward(new Float32Array(n), mask2, x, p, 1234);
  assert.deepEqual(mask2, mask, "same seed, different mask");
  native.dropoutForward(new Float32Array(n), mask2, x, p, 1235);
  let differ = 0;
  for (let i = 0; i < n; i++) if (mask2[i] !== mask[i]) differ++;
  // independent masks differ with probability 2p(1−p) = 0.42 per element
  assert.ok(differ / n > 0.35, `seeds 1234 and 1235 differ in only ${differ} of ${n}`);

  native.dropoutForward(out, mask, x, 0, 99);
  assert.deepEqual(out, x);
  assert.ok(mask.every((value) => value === 1));
});

test("argument validation throws instead of crashing", () => {
  const f = (n: number) => new Float32Array(n);
  const i32 = (...values: number[]) => Int32Array.from(values);
  // wrong typed-array type
  assert.throws(
    () => native.sgemm(false, false, 2, 2, 2, 1, new Float64Array(4) as never, 2, f(4), 2, 0, f(4), 2),
    TypeError,
  );
  assert.throws(() => native.embeddingForward(f(4), f(8), f(2) as never, 2, 2), TypeError);
  assert.throws(() => native.rmsnormForward(f(4), null, [1, 2, 3, 4] as never, f(2), 2, 2, 1e-6), TypeError);
  // wrong argument count
  assert.throws(() => (native.vecAdd as (a: Float32Array) => void)(f(4)), TypeError);
  // too-short buffers, bad dimensions
  assert.throws(() => native.rmsnormForward(f(6), null, f(5), f(3), 2, 3, 1e-6), RangeError);
  assert.throws(() => native.rmsnormForward(f(6), f(1), f(6), f(3), 2, 3, 1e-6), RangeError);
  assert.throws(() => native.rmsnormForward(f(6), null, f(6), f(3), -2, 3, 1e-6), RangeError);
  assert.throws(() => native.rmsnormForward(f(6), null, f(6), f(3), 1.5, 3, 1e-6), RangeError);
  assert.throws(() => native.sgemm(false, false, 3, 3, 3, 1, f(8), 3, f(9), 3, 0, f(9), 3), RangeError);
  assert.throws(() => native.sgemm(false, false, 3, 3, 3, 1, f(9), 2, f(9), 3, 0, f(9), 3), RangeError);
  assert.throws(() => native.sgemm(false, true, 3, 3, 3, 1, f(9), 3, f(9), 3, 0, f(8), 3), RangeError);
  assert.throws(() => native.vecAdd(f(5), f(4)), RangeError);
  assert.throws(() => native.swigluForward(f(5), f(5), f(4), 5), RangeError);
  // token ids
  assert.throws(() => native.embeddingForward(f(4), f(8), i32(0, 4), 2, 2), RangeError);
  assert.throws(() => native.embeddingForward(f(4), f(8), i32(-1, 0), 2, 2), RangeError);
  assert.throws(() => native.embeddingBackward(f(8), f(4), i32(3, 4), 2, 2), RangeError);
  // positions
  const { cos, sin } = ref.ropeTables(4, 4);
  assert.throws(() => native.ropeApply(f(8), i32(0, 4), cos, sin, 2, 1, 4, 1), RangeError);
  assert.throws(() => native.ropeApply(f(8), i32(-1, 0), cos, sin, 2, 1, 4, 1), RangeError);
  assert.throws(() => native.ropeApply(f(8), i32(0, 1), cos, sin.subarray(0, 4), 2, 1, 4, 1), RangeError);
  assert.throws(() => native.ropeApply(f(6), i32(0, 1), cos, sin, 2, 1, 3, 1), RangeError);
  // key ranges: k/v hold 3 rows of kvHeads·headDim = 4
  const attend = (base: Int32Array, count: Int32Array, heads = 2, kvHeads = 1) =>
    native.attentionForward(f(16), null, f(16), f(12), f(12), base, count, 2, heads, kvHeads, 4, 0.5);
  attend(i32(0, 1), i32(3, 2));
  assert.throws(() => attend(i32(0, 1), i32(3, 3)), RangeError);
  assert.throws(() => attend(i32(-1, 0), i32(1, 1)), RangeError);
  assert.throws(() => attend(i32(0, 0), i32(-1, 1)), RangeError);
  assert.throws(() => attend(i32(0, 0), i32(1, 1), 3, 2), RangeError);
  assert.throws(
    () => native.attentionForward(f(16), null, f(16), f(12), f(8), i32(0, 1), i32(3, 2), 2, 2, 1, 4, 0.5),
    RangeError,
  );
  // attention backward: seqStart must start at 0 and not decrease
  const back = (seqStart: Int32Array) =>
    native.attentionBackward(f(8), f(8), f(8), f(8), f(8), f(2), f(8), f(8), f(8), seqStart, 2, 1, 1, 4, 0.5);
  assert.throws(() => back(i32(1, 1, 2)), RangeError);
  assert.throws(() => back(i32(0, 2, 1)), RangeError);
  assert.throws(() => back(i32(0, 1, 3)), RangeError);
  // targets
  assert.throws(() => native.crossEntropy(f(8), f(2), i32(0, 4), 2, 4, 1), RangeError);
  assert.throws(() => native.crossEntropy(f(8), f(1), i32(0, 1), 2, 4, 1), RangeError);
  // optimizer / dropout arguments
  assert.throws(() => native.adamwStep(f(4), f(4), f(4), f(4), 1e-3, 0.9, 0.999, 1e-8, 0, 0), RangeError);
  assert.throws(() => native.adamwStep(f(4), f(3), f(4), f(4), 1e-3, 0.9, 0.999, 1e-8, 0, 1), RangeError);
  assert.throws(() => native.dropoutForward(f(4), f(4), f(4), 1, 0), RangeError);
  assert.throws(() => native.dropoutForward(f(4), f(3), f(4), 0.5, 0), RangeError);
});

/** Runs a snippet against the addon in a child process, so a crash there cannot take the test runner down. */
function runIsolated(body: string): { status: number | null; signal: string | null; output: string } {
  const url = new URL("../../src/native/index.js", import.meta.url).href;
  const script = `import { native } from ${JSON.stringify(url)};
const f = (n) => new Float32Array(n);
try { ${body}; console.log("returned"); } catch (e) { console.log("threw " + e.name); }`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  return { status: child.status, signal: child.signal, output: child.stdout + child.stderr };
}

test("attentionForward with headDim 0 throws instead of dividing by zero", () => {
  const child = runIsolated(
    "native.attentionForward(f(0), null, f(0), f(4), f(4), Int32Array.from([0]), Int32Array.from([0]), 1, 2, 1, 0, 1)",
  );
  assert.equal(child.signal, null, `child died with ${child.signal}`);
  assert.match(child.output, /threw RangeError/);
});

test("dimensions that could overflow extent products are rejected", () => {
  for (const call of [
    "native.rmsnormForward(f(4), null, f(4), f(4), 2 ** 62, 4, 1e-6)",
    "native.attentionForward(f(4), null, f(4), f(4), f(4), Int32Array.from([0]), Int32Array.from([0]), 2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30, 1)",
  ]) {
    const child = runIsolated(call);
    assert.equal(child.signal, null, `child died with ${child.signal}`);
    assert.match(child.output, /threw RangeError/);
  }
});

test("adamwTensors equals the per-tensor norm → clip → adamwStep → norm sequence, and skips a non-finite step", () => {
  const rng = new Rng(77);
  const sizes = [5, 33, 1, 100];
  const make = (scale: number) => sizes.map((n) => Float32Array.from({ length: n }, () => rng.normal() * scale));
  for (const maxNorm of [0, 0.5, 1e6]) {
    const params = make(1);
    const grads = make(0.3);
    const ms = sizes.map((n) => new Float32Array(n));
    const vs = sizes.map((n) => new Float32Array(n));
    const copy = (list: Float32Array[]) => list.map((t) => t.slice());
    const [p2, g2, m2, v2] = [copy(params), copy(grads), copy(ms), copy(vs)];
    for (let step = 1; step <= 3; step++) {
      const out = new Float64Array(2);
      native.adamwTensors(params, grads, ms, vs, 1e-2, 0.9, 0.999, 1e-8, 0.01, step, maxNorm, out);
      const norm = Math.sqrt(g2.reduce((sum, g) => sum + native.vecSumSquares(g), 0));
      const coefficient = maxNorm / (norm + 1e-6);
      if (maxNorm > 0 && coefficient < 1) for (const g of g2) native.vecScale(g, coefficient);
      for (const [i, p] of p2.entries()) native.adamwStep(p, g2[i], m2[i], v2[i], 1e-2, 0.9, 0.999, 1e-8, 0.01, step);
      assert.equal(out[0], norm);
      assert.equal(
        out[1],
        p2.reduce((sum, p) => sum + native.vecSumSquares(p), 0),
      );
      for (const [i, p] of params.entries()) assert.deepEqual(p, p2[i], `maxNorm ${maxNorm} step ${step} tensor ${i}`);
    }
  }
  const params = make(1);
  const before = params.map((t) => t.slice());
  const grads = make(1);
  grads[2][0] = Number.NaN;
  const out = new Float64Array(2);
  native.adamwTensors(params, grads, make(0), make(0), 1e-2, 0.9, 0.999, 1e-8, 0, 1, 1, out);
  assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]));
  assert.deepEqual(params, before, "nothing is updated when the gradient norm is not finite");
  assert.throws(
    () =>
      native.adamwTensors(
        [new Float32Array(4)],
        [new Float32Array(3)],
        [new Float32Array(4)],
        [new Float32Array(4)],
        1e-3,
        0.9,
        0.999,
        1e-8,
        0,
        1,
        1,
        out,
      ),
    RangeError,
  );
});
