import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import type { Grid } from "../../../src/domains/arc/grid.js";
import { gridToNumpyText, gridToRowLines, NUMPY_LINE_WIDTH } from "../../../src/domains/arc/grid-text.js";

test("numpy text: hand-written goldens", () => {
  assert.equal(gridToNumpyText([[5]]), "[[5]]");
  assert.equal(gridToNumpyText([[0, 1, 2]]), "[[0 1 2]]");
  assert.equal(
    gridToNumpyText([
      [0, 1, 2],
      [3, 4, 5],
    ]),
    "[[0 1 2]\n [3 4 5]]",
  );
  assert.equal(gridToNumpyText([[7], [8], [9]]), "[[7]\n [8]\n [9]]");
});

test("numpy text: 30 columns stay on one line per row, 36 is numpy's last width before wrapping", () => {
  const wide = [Array.from({ length: 30 }, (_, i) => i % 10)];
  const text = gridToNumpyText(wide);
  assert.equal(text, `[[${wide[0].join(" ")}]]`);
  assert.equal(text.length, 2 + 59 + 2);
  const full = Array.from({ length: 30 }, () => wide[0]);
  for (const line of gridToNumpyText(full).split("\n")) assert.ok(line.length <= 63);
  assert.equal(gridToNumpyText([Array(36).fill(1)]).length, NUMPY_LINE_WIDTH);
  assert.throws(() => gridToNumpyText([Array(37).fill(1)]), /wrap/);
});

test("numpy text: wider cells are right-aligned like numpy; empty prints []; ragged or non-integer throws", () => {
  assert.equal(
    gridToNumpyText([
      [1, 10],
      [3, 4],
    ]),
    "[[ 1 10]\n [ 3  4]]",
  );
  assert.equal(gridToNumpyText([[-1, 0]]), "[[-1  0]]");
  assert.equal(gridToNumpyText([]), "[]");
  assert.equal(gridToNumpyText([[]]), "[]");
  assert.throws(() => gridToNumpyText([[1, 2], [3]]), /row 1/);
  assert.throws(() => gridToNumpyText([[], [3]]), /ragged/);
  assert.throws(() => gridToNumpyText([[1.5]]), /not an integer/);
});

test("self-edit rows: space-separated cells, every row ending in a newline", () => {
  assert.equal(
    gridToRowLines([
      [0, 1, 2],
      [3, 4, 5],
    ]),
    "0 1 2\n3 4 5\n",
  );
  assert.equal(gridToRowLines([[7]]), "7\n");
});

/** A deterministic spread of grids: every side length 1–30 and a few extremes. */
function sampleGrids(): Grid[] {
  let state = 12345;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  const grids: Grid[] = [[[0]], Array.from({ length: 30 }, () => Array(30).fill(9))];
  for (let side = 1; side <= 30; side++) {
    const height = side;
    const width = 1 + next(30);
    grids.push(Array.from({ length: height }, () => Array.from({ length: width }, () => next(10))));
    grids.push(Array.from({ length: 1 + next(30) }, () => Array.from({ length: side }, () => next(10))));
  }
  grids.push([Array(36).fill(3)], [[1, 10, 100]]);
  return grids;
}

test("numpy text equals numpy's own str() (skipped without python3 + numpy)", (t) => {
  const grids = sampleGrids();
  const script =
    "import json,sys\nimport numpy as np\nprint(json.dumps([str(np.array(g)) for g in json.load(sys.stdin)]))";
  const run = spawnSync("python3", ["-c", script], { input: JSON.stringify(grids), encoding: "utf8" });
  if (run.error || run.status !== 0) {
    t.skip(
      `python3 with numpy unavailable (apt-get install python3-numpy): ${run.error?.message ?? run.stderr.trim().split("\n").pop()}`,
    );
    return;
  }
  const expected = JSON.parse(run.stdout) as string[];
  assert.equal(expected.length, grids.length);
  grids.forEach((grid, i) => {
    assert.equal(gridToNumpyText(grid), expected[i], `grid ${i} (${grid.length}×${grid[0].length})`);
  });
});
