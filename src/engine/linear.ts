/**
 * y = x·Wᵀ (+ b) for row-major x [rows, in] and PyTorch-layout W [out, in], with its two backwards.
 * Thin wrappers that name the shapes once, so the model code reads like the math, and pick the product by row count:
 * a small-M kernel (decode), the packed training kernels (short sequences) or sgemm.
 */
import { native } from "../native/index.js";

/**
 * Up to this many rows (a decode step's sequences) the unpacked small-M kernel beats sgemm: measured on the
 * project machine, 1 row 2.9×, 16 rows 1.5× on a 151936×896 weight; OpenBLAS wins from about 32 rows.
 */
const SMALL_M_ROWS = 16;

/**
 * Up to this many rows (a training step's short sequences) dx = dout·W, and from SMALL_M_ROWS + 1 on y = x·Wᵀ, run
 * on the project's packed kernels (native/kernels_smallm_train.c) instead of sgemm; 0 where those kernels are plain
 * loops (no AVX-512). Measured on the project machine (Zen 5, 2 cores, OpenBLAS 0.3.21), Qwen2.5-0.5B and SEAL-mini
 * weight shapes: against OpenBLAS on an AVX-512 core type they are 0.9–9× from 17 to 128 rows (below 1× in 3 of 36
 * pairs) and 0.6–1.3× at 256; against the AVX2 (Haswell) core type 1.2–8× from 11 to 64 rows and 1.1–4.7× from 128
 * to 512 (one pair 0.8×).
 */
const TRAIN_KERNEL_ROWS = !native.smallMTrainVectorized()
  ? 0
  : /skylakex|cooperlake|sapphirerapids/i.test(native.info().blasCore)
    ? 128
    : 512;

export function linearForward(
  out: Float32Array,
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  if (rows <= SMALL_M_ROWS) native.matmulSmallM(out, x, weight, rows, outDim, inDim);
  else if (rows <= TRAIN_KERNEL_ROWS) native.matmulNtSmallM(out, x, weight, rows, outDim, inDim);
  else native.sgemm(false, true, rows, outDim, inDim, 1, x, inDim, weight, inDim, 0, out, outDim);
  if (bias) native.biasForward(out, bias, rows, outDim);
}

/** dx (+)= dout·W. `accumulate` adds into dx instead of overwriting it. */
export function linearBackwardInput(
  dx: Float32Array,
  dout: Float32Array,
  weight: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
  accumulate: boolean,
): void {
  if (rows <= TRAIN_KERNEL_ROWS) native.matmulNnSmallM(dx, dout, weight, rows, inDim, outDim, accumulate);
  else native.sgemm(false, false, rows, inDim, outDim, 1, dout, outDim, weight, inDim, accumulate ? 1 : 0, dx, inDim);
}

/** dW += doutᵀ·x (and dbias += Σ_rows dout). */
export function linearBackwardWeight(
  dweight: Float32Array,
  dbias: Float32Array | null,
  dout: Float32Array,
  x: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  native.sgemm(true, false, outDim, inDim, rows, 1, dout, outDim, x, inDim, 1, dweight, inDim);
  if (dbias) native.biasBackward(dbias, dout, rows, outDim);
}
