/**
 * The LoRA segment kernels (native/kernels_lora.c) against the float64 reference products: several segments with
 * their own ranks, scales and row counts (an empty one included), ranks and widths that are not multiples of 16 or
 * of the register tiles, both dx modes, gradients that accumulate onto what they held or overwrite it (per segment),
 * and rows no segment covers, which must stay untouched.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/engine/random.js";
import { native } from "../../src/native/index.js";
import * as ref from "./reference-ops.js";

function randn(rng: Rng, n: number): Float32Array {
  return rng.fillNormal(new Float32Array(n), 1);
}

interface Segment {
  start: number;
  rows: number;
  rank: number;
  scale: number;
}

// [in, out, segments]: rows 0–1 and the last 2 belong to no segment
const CASES: [number, number, Segment[]][] = [
  [
    37,
    70,
    [
      { start: 2, rows: 13, rank: 32, scale: 2 },
      { start: 15, rows: 0, rank: 4, scale: 1 },
      { start: 15, rows: 1, rank: 5, scale: 0.5 },
      { start: 16, rows: 25, rank: 17, scale: 1.5 },
    ],
  ],
  [64, 129, [{ start: 2, rows: 30, rank: 40, scale: 0.25 }]],
  [256, 96, [...Array(6)].map((_, i) => ({ start: 2 + 11 * i, rows: 11, rank: 8 + 8 * i, scale: 2 }))],
];

const segmentTable = (segs: Segment[]) => Int32Array.from(segs.flatMap((s) => [s.start, s.rows, s.rank]));

test("loraForwardSegments and loraBackwardSegments match the float64 products per segment", (t) => {
  const rng = new Rng(91);
  let worst = 0;
  const check = (got: ArrayLike<number>, want: Float64Array, what: string) => {
    const error = ref.relError(got, want);
    worst = Math.max(worst, error);
    assert.ok(error < 1e-5, `${what}: rel error ${error}`);
  };
  for (const [inDim, outDim, segs] of CASES) {
    const rows = Math.max(...segs.map((s) => s.start + s.rows)) + 2;
    const x = randn(rng, rows * inDim);
    const as = segs.map((s) => randn(rng, s.rank * inDim));
    const bs = segs.map((s) => randn(rng, outDim * s.rank));
    const scales = Float32Array.from(segs.map((s) => s.scale));
    const hidden = new Float32Array(segs.reduce((n, s) => n + s.rows * s.rank, 0));
    const out = randn(rng, rows * outDim);
    const outBefore = out.slice();
    native.loraForwardSegments(out, x, hidden, as, bs, segmentTable(segs), scales, inDim, outDim);

    const dout = randn(rng, rows * outDim);
    for (const accumulate of [false, true]) {
      const dx = randn(rng, rows * inDim);
      const dxBefore = dx.slice();
      const gas = segs.map((s) => randn(rng, s.rank * inDim));
      const gbs = segs.map((s) => randn(rng, outDim * s.rank));
      // overwrite alternates per segment, and flips between the two passes
      const overwrite = Int32Array.from(segs, (_, i) => (i + (accumulate ? 1 : 0)) % 2);
      const gasBefore = gas.map((g, i) => (overwrite[i] ? new Float32Array(g.length) : g.slice()));
      const gbsBefore = gbs.map((g, i) => (overwrite[i] ? new Float32Array(g.length) : g.slice()));
      const dhidden = new Float32Array(hidden.length).fill(Number.NaN); // scratch: must be written before read
      native.loraBackwardSegments(
        dx,
        accumulate,
        dout,
        x,
        hidden,
        dhidden,
        as,
        bs,
        gas,
        gbs,
        segmentTable(segs),
        scales,
        inDim,
        outDim,
        overwrite,
      );
      let offset = 0;
      segs.forEach((s, i) => {
        const what = `in ${inDim} out ${outDim} segment ${i} (rows ${s.rows}, rank ${s.rank})`;
        const xs = x.subarray(s.start * inDim, (s.start + s.rows) * inDim);
        const ds = dout.subarray(s.start * outDim, (s.start + s.rows) * outDim);
        const h = hidden.subarray(offset, offset + s.rows * s.rank);
        offset += s.rows * s.rank;
        const wantH = ref.sgemm(false, true, s.rows, s.rank, inDim, 1, xs, inDim, as[i], inDim, 0, h, s.rank);
        if (!accumulate) {
          check(h, wantH, `${what} hidden`);
          const before = outBefore.subarray(s.start * outDim, (s.start + s.rows) * outDim);
          const wantOut = ref.sgemm(
            false,
            true,
            s.rows,
            outDim,
            s.rank,
            s.scale,
            h,
            s.rank,
            bs[i],
            s.rank,
            1,
            before,
            outDim,
          );
          check(out.subarray(s.start * outDim, (s.start + s.rows) * outDim), wantOut, `${what} out`);
        }
        const wantGb = ref.sgemm(
          true,
          false,
          outDim,
          s.rank,
          s.rows,
          s.scale,
          ds,
          outDim,
          h,
          s.rank,
          1,
          gbsBefore[i],
          s.rank,
        );
        check(gbs[i], wantGb, `${what} dB`);
        const dh = ref.sgemm(
          false,
          false,
          s.rows,
          s.rank,
          outDim,
          s.scale,
          ds,
          outDim,
          bs[i],
          s.rank,
          0,
          new Float64Array(s.rows * s.rank),
          s.rank,
        );
        const wantGa = ref.sgemm(true, false, s.rank, inDim, s.rows, 1, dh, s.rank, xs, inDim, 1, gasBefore[i], inDim);
        check(gas[i], wantGa, `${what} dA`);
        const dxPrior = dxBefore.subarray(s.start * inDim, (s.start + s.rows) * inDim);
        const wantDx = ref.sgemm(
          false,
          false,
          s.rows,
          inDim,
          s.rank,
          1,
          dh,
          s.rank,
          as[i],
          inDim,
          accumulate ? 1 : 0,
          dxPrior,
          inDim,
        );
        check(
          dx.subarray(s.start * inDim, (s.start + s.rows) * inDim),
          wantDx,
          `${what} dx (accumulate ${accumulate})`,
        );
      });
      // rows outside every segment keep their values
      const covered = new Set(segs.flatMap((s) => [...Array(s.rows)].map((_, r) => s.start + r)));
      for (let r = 0; r < rows; r++) {
        if (covered.has(r)) continue;
        for (let i = 0; i < inDim; i++) assert.equal(dx[r * inDim + i], dxBefore[r * inDim + i], `dx row ${r} changed`);
        if (!accumulate)
          for (let o = 0; o < outDim; o++) assert.equal(out[r * outDim + o], outBefore[r * outDim + o], `out row ${r}`);
      }
    }
  }
  t.diagnostic(`LoRA segments worst rel error ${worst.toExponential(2)}`);
});
