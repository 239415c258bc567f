/**
 * Float64 reference implementations of the native kernels' forwards (native/kernels.h), written the obvious way
 * so the float32 kernels can be checked against them and their backwards against finite differences of them.
 * Inputs are any array of numbers (Float32Array values are exact in float64); outputs are fresh Float64Arrays.
 */

export type Numbers = ArrayLike<number>;

/** Σ a[i]·b[i]. */
export function dot(a: Numbers, b: Numbers): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** a + alpha·b as a new array. */
export function axpy(a: Numbers, b: Numbers, alpha: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + alpha * b[i];
  return out;
}

/**
 * Row-major C = alpha·op(A)·op(B) + beta·C (cblas_sgemm semantics): op(A) is M×K, op(B) is K×N. A is stored M×K
 * (K×M when transA) with row stride lda; likewise B and C. Returns a copy of C with the M×N block updated.
 */
export function sgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Numbers,
  lda: number,
  b: Numbers,
  ldb: number,
  beta: number,
  c: Numbers,
  ldc: number,
): Float64Array {
  const out = Float64Array.from(c);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * lda + i] : a[i * lda + p];
        const bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
        sum += aip * bpj;
      }
      // beta = 0 must ignore C entirely (cblas does not read it), so NaN garbage there would not propagate.
      out[i * ldc + j] = alpha * sum + (beta === 0 ? 0 : beta * c[i * ldc + j]);
    }
  }
  return out;
}

/** RMSNorm: y = w·x/√(mean(x²)+eps) per row; rstd[r] = 1/√(mean(x²)+eps). */
export function rmsnorm(
  x: Numbers,
  weight: Numbers,
  rows: number,
  dim: number,
  eps: number,
): { out: Float64Array; rstd: Float64Array } {
  const out = new Float64Array(rows * dim);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += x[r * dim + i] ** 2;
    const s = 1 / Math.sqrt(sum / dim + eps);
    rstd[r] = s;
    for (let i = 0; i < dim; i++) out[r * dim + i] = weight[i] * x[r * dim + i] * s;
  }
  return { out, rstd };
}

/** cos/sin tables [maxPos, headDim/2] of HF's default RoPE: angle = pos · theta^(−2i/headDim). */
export function ropeTables(maxPos: number, headDim: number, theta = 10000): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * theta ** ((-2 * i) / headDim);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Rotate-half RoPE on x [tokens, heads, headDim]: the pair (i, i+half) of each head rotates by the angle whose
 * cos/sin are the table entries at [positions[t], i]; direction −1 rotates by the opposite angle (uses −sin).
 */
export function rope(
  x: Numbers,
  positions: Numbers,
  cos: Numbers,
  sin: Numbers,
  tokens: number,
  heads: number,
  headDim: number,
  direction: 1 | -1,
): Float64Array {
  const half = headDim / 2;
  const out = Float64Array.from(x);
  for (let t = 0; t < tokens; t++) {
    const row = positions[t] * half;
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const c = cos[row + i];
        const s = direction * sin[row + i];
        const a = x[base + i];
        const b = x[base + half + i];
        out[base + i] = a * c - b * s;
        out[base + half + i] = b * c + a * s;
      }
    }
  }
  return out;
}

/**
 * Grouped-query attention over explicit key ranges: token t, head h attends key rows keyBase[t] ..
 * keyBase[t]+keyCount[t]−1 of kv head ⌊h/(heads/kvHeads)⌋ with softmax(scale·q·k). lse = log Σ exp(scores)
 * (−∞ and a zero output for an empty range).
 */
export function attention(
  q: Numbers,
  k: Numbers,
  v: Numbers,
  keyBase: Numbers,
  keyCount: Numbers,
  tokens: number,
  heads: number,
  kvHeads: number,
  headDim: number,
  scale: number,
): { out: Float64Array; lse: Float64Array } {
  const group = heads / kvHeads;
  const out = new Float64Array(tokens * heads * headDim);
  const lse = new Float64Array(tokens * heads);
  for (let t = 0; t < tokens; t++) {
    for (let h = 0; h < heads; h++) {
      const qOff = (t * heads + h) * headDim;
      const kvOff = Math.floor(h / group) * headDim;
      const count = keyCount[t];
      const scores = new Float64Array(count);
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < count; j++) {
        const kOff = (keyBase[t] + j) * kvHeads * headDim + kvOff;
        let s = 0;
        for (let d = 0; d < headDim; d++) s += q[qOff + d] * k[kOff + d];
        scores[j] = s * scale;
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j < count; j++) sum += Math.exp(scores[j] - max);
      lse[t * heads + h] = count > 0 ? max + Math.log(sum) : Number.NEGATIVE_INFINITY;
      for (let j = 0; j < count; j++) {
        const p = Math.exp(scores[j] - max) / sum;
        const vOff = (keyBase[t] + j) * kvHeads * headDim + kvOff;
        for (let d = 0; d < headDim; d++) out[qOff + d] += p * v[vOff + d];
      }
    }
  }
  return { out, lse };
}

/** keyBase/keyCount for causal attention over packed sequences: token t of a sequence sees its sequence's 0..t. */
export function causalRanges(seqLengths: number[]): {
  seqStart: Int32Array;
  keyBase: Int32Array;
  keyCount: Int32Array;
} {
  const tokens = seqLengths.reduce((a, b) => a + b, 0);
  const seqStart = new Int32Array(seqLengths.length + 1);
  const keyBase = new Int32Array(tokens);
  const keyCount = new Int32Array(tokens);
  let t = 0;
  for (let s = 0; s < seqLengths.length; s++) {
    seqStart[s + 1] = seqStart[s] + seqLengths[s];
    for (let i = 0; i < seqLengths[s]; i++, t++) {
      keyBase[t] = seqStart[s];
      keyCount[t] = i + 1;
    }
  }
  return { seqStart, keyBase, keyCount };
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** SwiGLU: silu(gate)·up = gate·σ(gate)·up. */
export function swiglu(gate: Numbers, up: Numbers): Float64Array {
  const out = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
  return out;
}

/**
 * Cross-entropy per row: logsumexp(row) − row[target]; 0 for rows with target < 0. grad is ∂(Σ losses)/∂logits =
 * softmax − onehot (zero rows where ignored).
 */
export function crossEntropy(
  logits: Numbers,
  targets: Numbers,
  rows: number,
  vocab: number,
): { losses: Float64Array; grad: Float64Array } {
  const losses = new Float64Array(rows);
  const grad = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const target = targets[r];
    if (target < 0) continue;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < vocab; i++) max = Math.max(max, logits[r * vocab + i]);
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(logits[r * vocab + i] - max);
    const lse = max + Math.log(sum);
    losses[r] = lse - logits[r * vocab + target];
    for (let i = 0; i < vocab; i++) grad[r * vocab + i] = Math.exp(logits[r * vocab + i] - lse);
    grad[r * vocab + target] -= 1;
  }
  return { losses, grad };
}

/**
 * One step of torch.optim.AdamW (in place, step 1-based):
 *   p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 *   p ← p − (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + eps).
 */
export function adamwStep(
  param: Float64Array,
  grad: Numbers,
  m: Float64Array,
  v: Float64Array,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  step: number,
): void {
  const bias1 = 1 - beta1 ** step;
  const bias2 = 1 - beta2 ** step;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    param[i] *= 1 - lr * weightDecay;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const denom = Math.sqrt(v[i]) / Math.sqrt(bias2) + eps;
    param[i] -= (lr / bias1) * (m[i] / denom);
  }
}

/** out[t] = table[ids[t]] (rows of dim). */
export function embedding(table: Numbers, ids: Numbers, dim: number): Float64Array {
  const out = new Float64Array(ids.length * dim);
  for (let t = 0; t < ids.length; t++) for (let i = 0; i < dim; i++) out[t * dim + i] = table[ids[t] * dim + i];
  return out;
}

/** dtable (a copy of the given one) with dtable[ids[t]] += dout[t]. */
export function embeddingScatterAdd(dtable: Numbers, dout: Numbers, ids: Numbers, dim: number): Float64Array {
  const out = Float64Array.from(dtable);
  for (let t = 0; t < ids.length; t++) for (let i = 0; i < dim; i++) out[ids[t] * dim + i] += dout[t * dim + i];
  return out;
}

/** x[r] + bias for each row. */
export function biasAdd(x: Numbers, bias: Numbers, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] + bias[i];
  return out;
}

/** Column sums of a rows×dim matrix. */
export function columnSums(x: Numbers, rows: number, dim: number): Float64Array {
  const out = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) out[i] += x[r * dim + i];
  return out;
}

/** max|got − want| / (max|want| + 1e-6): the error measure the kernel tests report. */
export function relError(got: Numbers, want: Numbers): number {
  if (got.length !== want.length) throw new Error(`length mismatch: ${got.length} vs ${want.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / (scale + 1e-6);
}

/**
 * Central finite differences of a scalar function with respect to every element of x (x is perturbed in place
 * and restored).
 */
export function numericGradient(x: Float64Array, f: () => number, eps = 1e-5): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + eps;
    const plus = f();
    x[i] = saved - eps;
    const minus = f();
    x[i] = saved;
    grad[i] = (plus - minus) / (2 * eps);
  }
  return grad;
}
