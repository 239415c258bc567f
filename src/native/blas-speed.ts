/** A short sgemm measurement: what OpenBLAS, with the core type it loaded, delivers on this machine now. */
import { native } from "./index.js";

export interface SgemmSpeed {
  /** OpenBLAS's name for the core type it runs. */
  core: string;
  gflops: number;
  size: number;
}

/** C = A·Bᵀ on size² matrices, repeated for at least minSeconds (after one warm-up product). */
export function measureSgemm(size = 1536, minSeconds = 1): SgemmSpeed {
  const a = new Float32Array(size * size).fill(0.5);
  const b = new Float32Array(size * size).fill(0.25);
  const c = new Float32Array(size * size);
  const product = () => native.sgemm(false, true, size, size, size, 1, a, size, b, size, 0, c, size);
  product();
  const start = performance.now();
  let reps = 0;
  while (reps < 2 || performance.now() - start < minSeconds * 1000) {
    product();
    reps++;
  }
  const seconds = (performance.now() - start) / 1000 / reps;
  return { core: native.info().blasCore, gflops: (2 * size ** 3) / seconds / 1e9, size };
}
