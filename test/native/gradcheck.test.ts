/**
 * Every backward kernel against central finite differences (eps 1e-5, float64) of the float64 reference forward,
 * with loss = Σ out·R for a fixed random R (R is the dout handed to the kernel). The kernels run in float32, so
 * errors are max|analytic − numeric| / (max|numeric| + 1e-6); observed values go to the test diagnostics.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/engine/random.js";
import { native } from "../../src/native/index.js";
import * as ref from "./reference-ops.js";

function randn(rng: Rng, n: number, std = 1): Float32Array {
  return rng.fillNormal(new Float32Array(n), std);
}

function check(
  t: { diagnostic(message: string): void },
  label: string,
  got: ref.Numbers,
  want: ref.Numbers,
  tol: number,
) {
  const error = ref.relError(got, want);
  t.diagnostic(`${label}: rel error ${error.toExponential(2)} (tolerance ${tol})`);
  assert.ok(error < tol, `${label}: rel error ${error} ≥ ${tol}`);
}

/** got − base, in float64 (the part a kernel accumulated into a buffer that held `base`). */
function accumulated(got: Float32Array, base: Float32Array): Float64Array {
  return Float64Array.from(got, (x, i) => x - base[i]);
}

test("rmsnorm_backward: dx accumulates ∂L/∂x, dweight accumulates ∂L/∂w", (t) => {
  const rng = new Rng(101);
  const rows = 4;
  const dim = 13;
  const eps = 1e-6;
  const x = randn(rng, rows * dim);
  const w = Float32Array.from(randn(rng, dim, 0.3), (v) => 1 + v);
  const dout = randn(rng, rows * dim);
  const out = new Float32Array(rows * dim);
  const rstd = new Float32Array(rows);
  native.rmsnormForward(out, rstd, x, w, rows, dim, eps);

  const x64 = Float64Array.from(x);
  const w64 = Float64Array.from(w);
  const loss = () => ref.dot(ref.rmsnorm(x64, w64, rows, dim, eps).out, dout);
  const numericDx = ref.numericGradient(x64, loss);
  const numericDw = ref.numericGradient(w64, loss);

  const dx0 = randn(rng, rows * dim);
  const dw0 = randn(rng, dim);
  const dx = Float32Array.from(dx0);
  const dw = Float32Array.from(dw0);
  native.rmsnormBackward(dx, dw, dout, x, w, rstd, rows, dim);
  check(t, "rmsnorm dx (accumulated onto existing dx)", accumulated(dx, dx0), numericDx, 1e-5);
  check(t, "rmsnorm dweight (accumulated)", accumulated(dw, dw0), numericDw, 1e-5);

  const dxOnly = new Float32Array(rows * dim);
  native.rmsnormBackward(dxOnly, null, dout, x, w, rstd, rows, dim);
  check(t, "rmsnorm dx without dweight", dxOnly, numericDx, 1e-5);
});

test("rope: the inverse rotation is the backward", (t) => {
  const rng = new Rng(102);
  const tokens = 5;
  const heads = 3;
  const headDim = 14;
  const { cos, sin } = ref.ropeTables(64, headDim);
  const positions = Int32Array.from([0, 63, 7, 7, 31]);
  const x64 = Float64Array.from(randn(rng, tokens * heads * headDim));
  const dout = randn(rng, tokens * heads * headDim);
  const numeric = ref.numericGradient(x64, () =>
    ref.dot(ref.rope(x64, positions, cos, sin, tokens, heads, headDim, 1), dout),
  );
  const dx = Float32Array.from(dout);
  native.ropeApply(dx, positions, cos, sin, tokens, heads, headDim, -1);
  check(t, "rope backward", dx, numeric, 1e-6);
});

test("attention_backward: packed causal sequences, GQA groups 2 and 4, MHA", (t) => {
  const rng = new Rng(103);
  const configs = [
    { lengths: [4, 1, 6, 3], heads: 4, kvHeads: 2, headDim: 8 },
    { lengths: [1, 5, 2], heads: 8, kvHeads: 2, headDim: 6 },
    { lengths: [3, 1, 1, 5], heads: 3, kvHeads: 3, headDim: 7 },
  ];
  for (const { lengths, heads, kvHeads, headDim } of configs) {
    const label = `attention [${lengths}] heads ${heads}/${kvHeads} headDim ${headDim}`;
    const { seqStart, keyBase, keyCount } = ref.causalRanges(lengths);
    const tokens = keyBase.length;
    const scale = 1 / Math.sqrt(headDim);
    const q = randn(rng, tokens * heads * headDim);
    const k = randn(rng, tokens * kvHeads * headDim);
    const v = randn(rng, tokens * kvHeads * headDim);
    const dout = randn(rng, tokens * heads * headDim);
    const out = new Float32Array(tokens * heads * headDim);
    const lse = new Float32Array(tokens * heads);
    native.attentionForward(out, lse, q, k, v, keyBase, keyCount, tokens, heads, kvHeads, headDim, scale);

    const q64 = Float64Array.from(q);
    const k64 = Float64Array.from(k);
    const v64 = Float64Array.from(v);
    const loss = () =>
      ref.dot(ref.attention(q64, k64, v64, keyBase, keyCount, tokens, heads, kvHeads, headDim, scale).out, dout);
    // garbage in the outputs must be overwritten
    const dq = new Float32Array(q.length).fill(Number.NaN);
    const dk = new Float32Array(k.length).fill(Number.NaN);
    const dv = new Float32Array(v.length).fill(Number.NaN);
    native.attentionBackward(
      dq,
      dk,
      dv,
      dout,
      out,
      lse,
      q,
      k,
      v,
      seqStart,
      lengths.length,
      heads,
      kvHeads,
      headDim,
      scale,
    );
    check(t, `${label}: dq`, dq, ref.numericGradient(q64, loss), 1e-5);
    check(t, `${label}: dk`, dk, ref.numericGradient(k64, loss), 1e-5);
    check(t, `${label}: dv`, dv, ref.numericGradient(v64, loss), 1e-5);
  }
});

test("swiglu_backward: dgate and dup", (t) => {
  const rng = new Rng(104);
  const n = 301;
  const gate = randn(rng, n, 2);
  const up = randn(rng, n);
  const dout = randn(rng, n);
  const g64 = Float64Array.from(gate);
  const u64 = Float64Array.from(up);
  // elementwise, so one perturbation per element of a single-element forward is the full gradient
  const numericDg = new Float64Array(n);
  const numericDu = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const gi = new Float64Array([g64[i]]);
    const ui = new Float64Array([u64[i]]);
    const loss = () => ref.swiglu(gi, ui)[0] * dout[i];
    numericDg[i] = ref.numericGradient(gi, loss)[0];
    numericDu[i] = ref.numericGradient(ui, loss)[0];
  }
  const dgate = new Float32Array(n).fill(Number.NaN);
  const dup = new Float32Array(n).fill(Number.NaN);
  native.swigluBackward(dgate, dup, dout, gate, up, n);
  check(t, "swiglu dgate", dgate, numericDg, 1e-5);
  check(t, "swiglu dup", dup, numericDu, 1e-5);
});

test("cross_entropy gradient: gradScale·(softmax − onehot), zero on ignored rows", (t) => {
  const rng = new Rng(105);
  const rows = 5;
  const vocab = 37;
  const gradScale = 0.3;
  const logits = randn(rng, rows * vocab, 2);
  const targets = Int32Array.from([4, -1, 36, 0, -100]);
  const l64 = Float64Array.from(logits);
  const numeric = ref.numericGradient(l64, () => {
    const { losses } = ref.crossEntropy(l64, targets, rows, vocab);
    return gradScale * losses.reduce((a, b) => a + b, 0);
  });
  const grad = Float32Array.from(logits);
  const losses = new Float32Array(rows);
  native.crossEntropy(grad, losses, targets, rows, vocab, gradScale);
  check(t, "cross-entropy gradient", grad, numeric, 1e-5);
  for (const r of [1, 4]) {
    assert.equal(losses[r], 0);
    for (let i = 0; i < vocab; i++) assert.equal(grad[r * vocab + i], 0);
  }
});

test("embedding_backward: repeated ids accumulate, unused rows untouched", (t) => {
  const rng = new Rng(106);
  const vocab = 7;
  const dim = 6;
  const ids = Int32Array.from([3, 1, 3, 3, 0, 6, 1]);
  const table64 = Float64Array.from(randn(rng, vocab * dim));
  const dout = randn(rng, ids.length * dim);
  const numeric = ref.numericGradient(table64, () => ref.dot(ref.embedding(table64, ids, dim), dout));
  const dtable0 = randn(rng, vocab * dim);
  const dtable = Float32Array.from(dtable0);
  native.embeddingBackward(dtable, dout, ids, ids.length, dim);
  check(t, "embedding dtable (accumulated)", accumulated(dtable, dtable0), numeric, 1e-6);
  for (const row of [2, 4, 5])
    for (let i = 0; i < dim; i++) assert.equal(dtable[row * dim + i], dtable0[row * dim + i]);
});

test("bias_backward: column sums accumulate into dbias", (t) => {
  const rng = new Rng(107);
  const rows = 9;
  const dim = 11;
  const x64 = Float64Array.from(randn(rng, rows * dim));
  const bias64 = Float64Array.from(randn(rng, dim));
  const dout = randn(rng, rows * dim);
  const numeric = ref.numericGradient(bias64, () => ref.dot(ref.biasAdd(x64, bias64, rows, dim), dout));
  const dbias0 = randn(rng, dim);
  const dbias = Float32Array.from(dbias0);
  native.biasBackward(dbias, dout, rows, dim);
  check(t, "bias dbias (accumulated)", accumulated(dbias, dbias0), numeric, 1e-6);
});

test("matmul backward through sgemm transposes: dA = dC·Bᵀ, dB = Aᵀ·dC", (t) => {
  const rng = new Rng(108);
  const [m, n, k] = [5, 9, 7];
  const a64 = Float64Array.from(randn(rng, m * k));
  const b64 = Float64Array.from(randn(rng, k * n));
  const dc = randn(rng, m * n);
  const zeros = new Float64Array(m * n);
  const loss = () => ref.dot(ref.sgemm(false, false, m, n, k, 1, a64, k, b64, n, 0, zeros, n), dc);
  const numericA = ref.numericGradient(a64, loss);
  const numericB = ref.numericGradient(b64, loss);
  const a = Float32Array.from(a64);
  const b = Float32Array.from(b64);
  const da = new Float32Array(m * k);
  const db = new Float32Array(k * n);
  native.sgemm(false, true, m, k, n, 1, dc, n, b, n, 0, da, k);
  native.sgemm(true, false, k, n, m, 1, a, k, dc, n, 0, db, n);
  check(t, "matmul dA", da, numericA, 1e-5);
  check(t, "matmul dB", db, numericB, 1e-5);
});
