/**
 * Loads the C addon (native/, built by `npm install`) and exposes its kernels with types.
 *
 * Before the addon (and with it OpenBLAS) loads, we pick OpenBLAS's core type from the CPU flags: Debian's
 * OpenBLAS 0.3.21 mis-detects AMD Zen 5 as Haswell and runs sgemm at half speed (DESIGN.md). Forcing an AVX-512
 * core type on a CPU without AVX-512 crashes, so it is chosen from /proc/cpuinfo, never hard-coded, and a
 * user's own OPENBLAS_CORETYPE always wins.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chooseOpenBlasCoreType, readCpuInfo } from "./cpu.js";
import { resolveThreadSettings } from "./threads.js";

export { chooseOpenBlasCoreType } from "./cpu.js";

export interface NativeKernels {
  /** Row-major C = alpha·op(A)·op(B) + beta·C, op = transpose when the flag is set (cblas_sgemm). */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** out[M,N] = x[M,K]·w[N,K]ᵀ without packing: faster than sgemm for the few rows of a decode step. */
  matmulSmallM(out: Float32Array, x: Float32Array, w: Float32Array, m: number, n: number, k: number): void;
  rmsnormForward(
    out: Float32Array,
    rstd: Float32Array | null,
    x: Float32Array,
    weight: Float32Array,
    rows: number,
    dim: number,
    eps: number,
  ): void;
  /** dx += ∂L/∂x; dweight += ∂L/∂w when given. */
  rmsnormBackward(
    dx: Float32Array,
    dweight: Float32Array | null,
    dout: Float32Array,
    x: Float32Array,
    weight: Float32Array,
    rstd: Float32Array,
    rows: number,
    dim: number,
  ): void;
  /** In-place rotate-half RoPE; direction -1 is the inverse rotation (the backward). Tables: [positions, headDim/2]. */
  ropeApply(
    x: Float32Array,
    positions: Int32Array,
    cos: Float32Array,
    sin: Float32Array,
    tokens: number,
    heads: number,
    headDim: number,
    direction: 1 | -1,
  ): void;
  attentionForward(
    out: Float32Array,
    lse: Float32Array | null,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    keyBase: Int32Array,
    keyCount: Int32Array,
    tokens: number,
    heads: number,
    kvHeads: number,
    headDim: number,
    scale: number,
  ): void;
  /** Overwrites dq, dk, dv. Sequence s owns tokens and key rows seqStart[s]..seqStart[s+1]-1 (causal). */
  attentionBackward(
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    dout: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    seqStart: Int32Array,
    seqs: number,
    heads: number,
    kvHeads: number,
    headDim: number,
    scale: number,
  ): void;
  swigluForward(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void;
  swigluBackward(
    dgate: Float32Array,
    dup: Float32Array,
    dout: Float32Array,
    gate: Float32Array,
    up: Float32Array,
    n: number,
  ): void;
  /** losses[r] = CE of row r (0 where target < 0); when gradScale ≠ 0 logits become gradScale·(softmax − onehot). */
  crossEntropy(
    logits: Float32Array,
    losses: Float32Array,
    targets: Int32Array,
    rows: number,
    vocab: number,
    gradScale: number,
  ): void;
  adamwStep(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void;
  embeddingForward(out: Float32Array, table: Float32Array, ids: Int32Array, tokens: number, dim: number): void;
  embeddingBackward(dtable: Float32Array, dout: Float32Array, ids: Int32Array, tokens: number, dim: number): void;
  biasForward(x: Float32Array, bias: Float32Array, rows: number, dim: number): void;
  /** dbias += column sums of dout. */
  biasBackward(dbias: Float32Array, dout: Float32Array, rows: number, dim: number): void;
  /** Inverted dropout; mask receives the per-element multiplier (0 or 1/(1−p)). */
  dropoutForward(out: Float32Array, mask: Float32Array, x: Float32Array, p: number, seed: number): void;
  vecAdd(a: Float32Array, b: Float32Array): void;
  vecAxpy(a: Float32Array, b: Float32Array, alpha: number): void;
  vecScale(a: Float32Array, alpha: number): void;
  vecMul(a: Float32Array, b: Float32Array): void;
  vecSumSquares(a: Float32Array): number;
  /** Σa in float lanes: a streaming read for bandwidth measurement, not a precise sum. */
  vecSum(a: Float32Array): number;
  /**
   * LoRA over row segments: segment i = rows [segments[3i], +segments[3i+1]) with rank segments[3i+2], adapter
   * (as[i] [rank, in], bs[i] [out, rank]) and scales[i]: out += scale·(x·Aᵀ)·Bᵀ on its rows. hidden gets each
   * segment's [rows, rank] block, end to end, for the backward.
   */
  loraForwardSegments(
    out: Float32Array,
    x: Float32Array,
    hidden: Float32Array,
    as: Float32Array[],
    bs: Float32Array[],
    segments: Int32Array,
    scales: Float32Array,
    inDim: number,
    outDim: number,
  ): void;
  /**
   * Backward of loraForwardSegments: gradAs[i]/gradBs[i] += the segment's dA/dB (distinct buffers per segment; = where
   * overwrite[i] ≠ 0);
   * dx (+= when accumulate, else =) dHidden·A on each segment's rows; dhidden is scratch shaped like hidden.
   */
  loraBackwardSegments(
    dx: Float32Array,
    accumulate: boolean,
    dout: Float32Array,
    x: Float32Array,
    hidden: Float32Array,
    dhidden: Float32Array,
    as: Float32Array[],
    bs: Float32Array[],
    gradAs: Float32Array[],
    gradBs: Float32Array[],
    segments: Int32Array,
    scales: Float32Array,
    inDim: number,
    outDim: number,
    overwrite: Int32Array,
  ): void;
  /**
   * One optimizer step over every tensor: out[0] = the gradients' global norm; when finite, gradients are clipped to
   * maxNorm (0: none), AdamW applied per tensor, and out[1] = the parameters' squared norm after (else NaN).
   */
  adamwTensors(
    params: Float32Array[],
    grads: Float32Array[],
    ms: Float32Array[],
    vs: Float32Array[],
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
    maxNorm: number,
    out: Float64Array,
  ): void;
  setThreads(threads: number): void;
  info(): { blasCore: string; blasConfig: string; blasThreads: number; kernelThreads: number };
  /** stats[0] = lowest index of the max logit (-1: a NaN is present, -2: all are -Infinity), stats[1] = how many
   * logits are above -Infinity. */
  logitsScan(logits: Float32Array, stats: Int32Array): void;
  /** out[M,N] (+)= a[M,K]·w[K,N] without packing w: a linear layer's dx = dout·W on short sequences. */
  matmulNnSmallM(
    out: Float32Array,
    a: Float32Array,
    w: Float32Array,
    m: number,
    n: number,
    k: number,
    accumulate: boolean,
  ): void;
  /** out[M,N] = x[M,K]·w[N,K]ᵀ for tens to hundreds of rows (a training forward): faster than sgemm there. */
  matmulNtSmallM(out: Float32Array, x: Float32Array, w: Float32Array, m: number, n: number, k: number): void;
  /** Whether matmulNnSmallM / matmulNtSmallM were built with AVX-512 (else they are plain loops, slower than sgemm). */
  smallMTrainVectorized(): boolean;
}

/** OPENBLAS_CORETYPE as this process found it, before seal chose one: a preset from the user or the machine. */
export const presetOpenBlasCoreType: string | undefined = process.env.OPENBLAS_CORETYPE?.trim() || undefined;

function loadNative(): NativeKernels {
  if (!presetOpenBlasCoreType) {
    const { flags, amd } = readCpuInfo();
    const core = chooseOpenBlasCoreType(flags, amd);
    if (core) process.env.OPENBLAS_CORETYPE = core;
  }
  const threads = String(resolveThreadSettings(process.env, cpus().length).threads);
  // an empty value is unset to us, so it is to the libraries too
  if (!process.env.OMP_NUM_THREADS?.trim()) process.env.OMP_NUM_THREADS = threads;
  if (!process.env.OPENBLAS_NUM_THREADS?.trim()) process.env.OPENBLAS_NUM_THREADS = threads;
  // Idle OpenMP threads spin ~300k iterations by default before sleeping; when another process shares the cores
  // that spinning starves the working thread (a 16× slowdown was seen). A short spin keeps launches fast
  // (measured: LoRA step 4.7 s vs 5.1 s default; fully passive waiting costs 6.8 s).
  process.env.GOMP_SPINCOUNT ??= "10000";
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/src/native → repository root is three levels up; src/native (when run from source) two.
  const candidates = [
    join(here, "../../../build/Release/seal_native.node"),
    join(here, "../../build/Release/seal_native.node"),
  ];
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      "seal: the native addon is not built (build/Release/seal_native.node missing). Run `npm install` or `npm run build` in the seal folder.",
    );
  }
  const addon = createRequire(import.meta.url)(path) as Record<string, unknown>;
  // a plain copy: the addon's own exports are read-only and non-enumerable, and profilers wrap these functions
  return Object.fromEntries(
    Object.getOwnPropertyNames(addon).map((name) => [name, addon[name]]),
  ) as unknown as NativeKernels;
}

export const native: NativeKernels = loadNative();
