import assert from "node:assert/strict";
import { test } from "node:test";
import type { Grid } from "../../../src/domains/arc/grid.js";
import {
  canonicalInverter,
  FLIP_0,
  FLIP_1,
  IDENTITY,
  INVERTER_NAMES,
  majorityGrid,
  type Prediction,
  ROTATE_90,
  ROTATE_180,
  ROTATE_270,
  TRANSPOSE,
  topThree,
  VOTED_INVERTERS,
  vote,
} from "../../../src/domains/arc/vote.js";

// One-cell grids named by letter keep the hand computations short.
const A: Grid = [[1]];
const B: Grid = [[2]];
const C: Grid = [[3]];
const D: Grid = [[4]];

const p = (grid: Grid, inverter: string): Prediction => ({ grid, inverter });

test("inverter names are the agreed strings; Rotate(90) is not a voting group of its own", () => {
  assert.deepEqual(
    [IDENTITY, TRANSPOSE, FLIP_0, FLIP_1, ROTATE_90, ROTATE_180, ROTATE_270],
    ["Identity", "Transpose", "Flip(0)", "Flip(1)", "Rotate(90)", "Rotate(180)", "Rotate(270)"],
  );
  assert.deepEqual([...INVERTER_NAMES], [IDENTITY, TRANSPOSE, FLIP_0, FLIP_1, ROTATE_90, ROTATE_180, ROTATE_270]);
  assert.deepEqual([...VOTED_INVERTERS], [IDENTITY, TRANSPOSE, FLIP_0, FLIP_1, ROTATE_180, ROTATE_270]);
});

test("the reference's spellings Transpose() and identity vote in the same groups as ours", () => {
  assert.equal(canonicalInverter("Transpose()"), TRANSPOSE);
  assert.equal(canonicalInverter("identity"), IDENTITY);
  assert.equal(canonicalInverter(FLIP_0), FLIP_0);
  const ours = vote([p(A, TRANSPOSE), p(B, IDENTITY), p(D, FLIP_0), p(A, TRANSPOSE)]);
  const theirs = vote([p(A, "Transpose()"), p(B, "identity"), p(D, FLIP_0), p(A, TRANSPOSE)]);
  assert.deepEqual(theirs, ours);
});

test("topThree, reference selection: argmax first, then a stable ascending sort read from the end", () => {
  assert.equal(topThree([]), null);
  // Distinct in first-appearance order: C×1, A×2, B×2, D×1. First = the first of the highest count: A. Ascending by
  // count, stable: C, D, A, B → 2nd from the end = A (the first again, so the majority grid, A, fills), 3rd = D.
  // B, tied for the top, drops out: the reference's own behaviour.
  assert.deepEqual(topThree([C, A, A, B, B, D]), [A, A, D]);
  // All once: first D; ascending D, C, B, A → 2nd from the end B, 3rd C.
  assert.deepEqual(topThree([D, C, B, A]), [D, B, C]);
});

test("topThree, ranked selection: by frequency, ties by first appearance", () => {
  const ranked = { selection: "ranked" } as const;
  assert.equal(topThree([], ranked), null);
  // A×2 (first at 1), B×2 (first at 3), C×1 (first at 0), D×1.
  assert.deepEqual(topThree([C, A, A, B, B, D], ranked), [A, B, C]);
  assert.deepEqual(topThree([D, C, B, A], ranked), [D, C, B]);
});

test("topThree: fewer than three distinct outputs are filled from the row- then column-majority grid", () => {
  // One output: both majority grids are that output, so it fills all three slots.
  assert.deepEqual(topThree([A]), [A, A, A]);
  assert.deepEqual(topThree([A, A, A]), [A, A, A]);
  // Two: the row-majority grid is the most common one (already taken), so the column-majority one (the same) fills.
  assert.deepEqual(topThree([B, A, A]), [A, B, A]);
  assert.deepEqual(topThree([B, A, A], { selection: "ranked" }), [A, B, A]);
});

test("majorityGrid: row by row, and column by column", () => {
  // Row 0: [1]×2; row 1: [7]×2 → a grid none of the inputs is.
  const columns = [
    [[1], [5]],
    [[1], [6]],
    [[2], [7]],
    [[3], [7]],
  ];
  assert.deepEqual(majorityGrid(columns), [[1], [7]]);
  // The same numbers laid out as rows: every row differs, so the first wins row-wise; column-wise it is new.
  const rows = [[[1, 5]], [[1, 6]], [[2, 7]], [[3, 7]]];
  assert.deepEqual(majorityGrid(rows), [[1, 5]]);
  assert.deepEqual(majorityGrid(rows, true), [[1, 7]]);
});

test("majorityGrid: the most common shape, with rows of other-shaped grids counted where they fit", () => {
  const z = [
    [5, 5],
    [3, 3],
    [6, 6],
  ];
  const w = [
    [5, 5],
    [9, 9],
    [6, 6],
  ];
  const y = [
    [1, 1],
    [3, 3],
    [4, 4],
  ];
  const x = [
    [1, 1],
    [2, 2],
  ];
  // Shape 3×2 (three grids) beats 2×2 (two). Row 0: [1,1]×3 (y and both x) beats [5,5]×2. Row 1: [3,3]×2 and
  // [2,2]×2 tie, [3,3] appeared first. Row 2: only the 3×2 grids have it: [6,6]×2.
  assert.deepEqual(majorityGrid([z, w, y, x, x]), [
    [1, 1],
    [3, 3],
    [6, 6],
  ]);
  // A row of another width never counts: 1×3 grids cannot outvote the 1×2 shape's row.
  assert.deepEqual(majorityGrid([[[1, 2]], [[3, 4, 5]], [[3, 4, 5]], [[1, 2]], [[1, 2]]]), [[1, 2]]);
});

test("vote: a single prediction gives it twice; each group's three candidates weigh in the pool", () => {
  const result = vote([p(A, IDENTITY)]);
  assert.ok(result);
  assert.deepEqual(result.attempts, [A, A]);
  assert.equal(result.candidates.length, 6); // "all" and Identity, three each
  assert.notEqual(result.attempts[0], A, "attempts are copies");
});

test("vote: an augmentation group can outvote a plain majority of the raw predictions", () => {
  // all: [A,A,A,B] → A,B,A; Identity: [B] → B,B,B; Rotate(270): [A,A,A] → A,A,A. Pool A×5, B×4.
  assert.deepEqual(vote([p(A, ROTATE_270), p(A, ROTATE_270), p(A, ROTATE_270), p(B, IDENTITY)])?.attempts, [A, B]);
  // Rotate(90) is not a group: pool = all (A,B,A) + Identity (B,B,B) → B×4 beats A×2.
  assert.deepEqual(vote([p(A, ROTATE_90), p(A, ROTATE_90), p(A, ROTATE_90), p(B, IDENTITY)])?.attempts, [B, A]);
  // Nor is an unknown name.
  assert.deepEqual(vote([p(A, "Mystery"), p(A, "Mystery"), p(A, "Mystery"), p(B, IDENTITY)])?.attempts, [B, A]);
});

test('vote: "all" lists the predictions grouped by inverter, in order of each inverter\'s first appearance', () => {
  // all = Flip(0) [A, C] then Identity [B]; ranked over it: A, C, B (in prediction order it would be A, B, C).
  const result = vote([p(A, FLIP_0), p(B, IDENTITY), p(C, FLIP_0)], { selection: "ranked" });
  assert.deepEqual(result?.candidates.slice(0, 3), [A, C, B]);
});

test("vote, reference selection: the 2nd/3rd tie rule with its three branches", () => {
  // Groups Transpose [D], Flip(0) [A, A], Identity [C]; all = D, A, A, C → A, C, D. Pool: all (A, C, D),
  // Identity (C, C, C), Transpose (D, D, D), Flip(0) (A, A, A) → A×4, C×4, D×4: C1 = A, C2 = C, C3 = A again
  // (filled by the majority grid). Tied at 4; identity has C once, A never → C stays.
  assert.deepEqual(vote([p(D, TRANSPOSE), p(A, FLIP_0), p(C, IDENTITY), p(A, FLIP_0)])?.attempts, [A, C]);
  // Identity [B], Transpose [A], Flip(0) [C, D]; all = B, A, C, D → B, C, A; Flip(0) → C, C, C (its tie picks C
  // twice, the majority grid is C too). Pool B×4, C×4, A×4 → C1 = B, C2 = C, C3 = B (filled). Identity has B once,
  // C never → C3 wins, and both attempts are B.
  assert.deepEqual(vote([p(B, IDENTITY), p(A, TRANSPOSE), p(C, FLIP_0), p(D, FLIP_0)])?.attempts, [B, B]);
  // Equal identity counts (0 and 0) give C3 as well: pool A×4, C×4, D×4 with C1 = A, C2 = C, C3 = A → A twice.
  assert.deepEqual(vote([p(A, FLIP_0), p(A, FLIP_0), p(D, IDENTITY), p(C, TRANSPOSE)])?.attempts, [A, A]);
  // No identity outputs: the reference's lookup fails and C2 stays. all = Transpose = C, B, C, D → C, D, B;
  // pool C×2, D×2, B×2 → C1 = C, C2 = D, C3 = C (filled), tied.
  assert.deepEqual(vote([p(C, TRANSPOSE), p(B, TRANSPOSE), p(C, TRANSPOSE), p(D, TRANSPOSE)])?.attempts, [C, D]);
});

test("vote, ranked selection: a 2nd/3rd tie goes to the one more frequent among identity outputs", () => {
  const ranked = { selection: "ranked" } as const;
  // all: A,B,D; Identity [B] → B,B,B; Transpose [A] → A,A,A; Flip(0) [D] → D,D,D. Pool A×4, B×4, D×4:
  // C1 = A, C2 = B, C3 = D (first appearance), tied; identity has B once, D never → B.
  assert.deepEqual(vote([p(A, TRANSPOSE), p(B, IDENTITY), p(D, FLIP_0)], ranked)?.attempts, [A, B]);
  // Same shape of pool with C2 = C, C3 = B: identity has B → B replaces C.
  assert.deepEqual(vote([p(D, FLIP_0), p(C, TRANSPOSE), p(B, IDENTITY)], ranked)?.attempts, [D, B]);
  // all and Identity both D,A,B → pool D×2, A×2, B×2: C2 = A and C3 = B tie, once each among identity → B.
  assert.deepEqual(vote([p(D, IDENTITY), p(A, IDENTITY), p(B, IDENTITY)], ranked)?.attempts, [D, B]);
  // The same without identity outputs: C2 stays.
  assert.deepEqual(vote([p(C, FLIP_0), p(D, FLIP_0), p(A, FLIP_0)], ranked)?.attempts, [C, D]);
});

test("vote: bigger grids through the pooled vote, under both selections", () => {
  const g1 = [
    [1, 1],
    [2, 2],
  ];
  const g2 = [
    [1, 1],
    [3, 3],
  ];
  const g3 = [
    [4, 4],
    [2, 2],
  ];
  const predictions = [p(g1, IDENTITY), p(g2, IDENTITY), p(g3, IDENTITY), p(g2, FLIP_1), p(g2, FLIP_1)];
  // Ranked. Identity [g1, g2, g3] → g1, g2, g3. Flip(1) → g2 ×3. all = g1, g2, g3, g2, g2 → g2, g1, g3.
  // Pool g2×5, g1×2, g3×2 → C2 = g1 and C3 = g3 tie, once each among identity → g3.
  assert.deepEqual(vote(predictions, { selection: "ranked" })?.attempts, [g2, g3]);
  // Reference. all → g2 first; ascending g1, g3, g2 → g3, g1. Identity (all once) → g1, g2, then g1 again: its 3rd
  // pick is g1 and both majority grids are g1 (row 0 [1,1]×2, row 1 [2,2]×2). Flip(1) → g2 ×3.
  // Pool g2×5, g1×3, g3×1 → g2, g1, g3, no tie.
  assert.deepEqual(vote(predictions)?.attempts, [g2, g1]);
});

test("vote: nothing usable gives null; empty and ragged grids are ignored", () => {
  assert.equal(vote([]), null);
  assert.equal(vote([p([], IDENTITY), p([[]], IDENTITY), p([[1, 2], [3]], IDENTITY)]), null);
  assert.deepEqual(vote([p([], IDENTITY), p(B, IDENTITY), p([[1, 2], [3]], TRANSPOSE)])?.attempts, [B, B]);
});

test("vote is deterministic", () => {
  const predictions = [p(A, IDENTITY), p(B, TRANSPOSE), p(A, FLIP_0), p(C, IDENTITY), p(B, ROTATE_180)];
  assert.deepEqual(vote(predictions), vote(predictions.map((x) => ({ ...x }))));
});
