/**
 * The small-M matmul on seal's own thread pool (native/thread_pool.c): products large enough to be split into many
 * chunks claimed from both ends match a float64 loop, give the same bits on every call whichever thread took which
 * chunk, and stay right when another JS thread (worker_threads) multiplies at the same time (it then runs on its
 * own thread instead of sharing the pool).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { Rng } from "../../src/engine/random.js";
import { native } from "../../src/native/index.js";

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

function assertNear(out: Float32Array, want: Float64Array, k: number, label: string): void {
  for (let i = 0; i < want.length; i++) {
    // a dot product of k normal terms: error relative to √k, the size of a typical term sum
    const error = Math.abs(out[i] - want[i]) / Math.sqrt(k);
    assert.ok(error < 1e-5, `${label}: out[${i}] = ${out[i]}, want ${want[i]}`);
  }
}

test("matmulSmallM split over the pool matches a float64 loop and repeats bit for bit", () => {
  const rng = new Rng(21);
  // N = 2003: hundreds of 4-row strips and a 3-column edge; K = 1100: two K chunks at M ≥ 3
  const n = 2003;
  const k = 1100;
  const w = rng.fillNormal(new Float32Array(n * k), 1);
  for (const m of [1, 2, 3, 7, 16]) {
    const x = rng.fillNormal(new Float32Array(m * k), 1);
    const want = matmulReference(x, w, m, n, k);
    const first = new Float32Array(m * n);
    native.matmulSmallM(first, x, w, m, n, k);
    assertNear(first, want, k, `m ${m}`);
    // each output is summed by one chunk in a fixed order, so which thread ran it must not change a bit
    for (let repeat = 0; repeat < 20; repeat++) {
      const again = new Float32Array(m * n).fill(Number.NaN);
      native.matmulSmallM(again, x, w, m, n, k);
      assert.deepEqual(again, first, `m ${m}, repeat ${repeat}`);
    }
  }
});

test("matmulSmallM from a worker thread and the main thread at once gives each its own product", async () => {
  const rng = new Rng(22);
  const [m, n, k] = [16, 1501, 896];
  const w = rng.fillNormal(new Float32Array(new SharedArrayBuffer(n * k * 4)), 1);
  const x = rng.fillNormal(new Float32Array(new SharedArrayBuffer(m * k * 4)), 1);
  const fromWorker = new Float32Array(new SharedArrayBuffer(m * n * 4));
  const nativeUrl = new URL("../../src/native/index.js", import.meta.url).href;
  // the worker multiplies 40 times while the main thread does too, so their calls overlap
  const worker = new Worker(
    `const { workerData, parentPort } = require("node:worker_threads");
     import(workerData.nativeUrl).then(({ native }) => {
       const { x, w, out, m, n, k } = workerData;
       for (let i = 0; i < 40; i++) native.matmulSmallM(out, x, w, m, n, k);
       parentPort.postMessage("done");
     });`,
    { eval: true, workerData: { nativeUrl, x, w, out: fromWorker, m, n, k } },
  );
  const finished = new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  const fromMain = new Float32Array(m * n);
  const want = matmulReference(x, w, m, n, k);
  for (let i = 0; i < 40; i++) {
    fromMain.fill(Number.NaN);
    native.matmulSmallM(fromMain, x, w, m, n, k);
    assertNear(fromMain, want, k, `main thread, call ${i}`);
  }
  await finished;
  await worker.terminate();
  assertNear(fromWorker, want, k, "worker thread");
});
