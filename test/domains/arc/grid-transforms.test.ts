import assert from "node:assert/strict";
import { test } from "node:test";
import {
  concatenate,
  flipLeftRight,
  flipUpDown,
  mapColours,
  repeatCells,
  roll,
  rot90,
  tile,
  transpose,
} from "../../../src/domains/arc/grid-transforms.js";

// Expected grids written by hand from numpy's definitions; a 2×3 grid catches row/column mix-ups.
const A = [
  [1, 2, 3],
  [4, 5, 6],
];

test("rot90 turns counter-clockwise like np.rot90", () => {
  assert.deepEqual(
    rot90(
      [
        [1, 2],
        [3, 4],
      ],
      1,
    ),
    [
      [2, 4],
      [1, 3],
    ],
  );
  assert.deepEqual(rot90(A, 1), [
    [3, 6],
    [2, 5],
    [1, 4],
  ]);
  assert.deepEqual(rot90(A, 2), [
    [6, 5, 4],
    [3, 2, 1],
  ]);
  assert.deepEqual(rot90(A, 3), [
    [4, 1],
    [5, 2],
    [6, 3],
  ]);
  assert.deepEqual(rot90(A, -1), rot90(A, 3));
  assert.deepEqual(rot90(A, 4), A);
});

test("flips and transpose", () => {
  assert.deepEqual(flipUpDown(A), [
    [4, 5, 6],
    [1, 2, 3],
  ]);
  assert.deepEqual(flipLeftRight(A), [
    [3, 2, 1],
    [6, 5, 4],
  ]);
  assert.deepEqual(transpose(A), [
    [1, 4],
    [2, 5],
    [3, 6],
  ]);
});

test("concatenate, repeat and tile", () => {
  assert.deepEqual(concatenate([A, [[7, 8, 9]]], 0), [
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ]);
  assert.deepEqual(concatenate([A, [[7], [8]]], 1), [
    [1, 2, 3, 7],
    [4, 5, 6, 8],
  ]);
  assert.throws(() => concatenate([A, [[7]]], 1), /one height/);
  assert.deepEqual(repeatCells(A, 2, 0), [
    [1, 2, 3],
    [1, 2, 3],
    [4, 5, 6],
    [4, 5, 6],
  ]);
  assert.deepEqual(repeatCells(A, 2, 1), [
    [1, 1, 2, 2, 3, 3],
    [4, 4, 5, 5, 6, 6],
  ]);
  assert.deepEqual(tile([[1, 2]], 2, 2), [
    [1, 2, 1, 2],
    [1, 2, 1, 2],
  ]);
  assert.deepEqual(tile([[1, 2]], 3, 1), [[1, 2, 1, 2, 1, 2]]);
});

test("roll shifts cyclically down and right like np.roll(axis=(0, 1))", () => {
  assert.deepEqual(roll(A, 1, 1), [
    [6, 4, 5],
    [3, 1, 2],
  ]);
  assert.deepEqual(roll([[1, 2, 3]], 0, 2), [[2, 3, 1]]);
  assert.deepEqual(roll(A, -1, -4), roll(A, 1, 2));
  assert.deepEqual(roll(A, 0, 0), A);
});

test("transforms never mutate their argument and never alias its rows", () => {
  const grid = [
    [1, 2],
    [3, 4],
  ];
  const before = JSON.stringify(grid);
  const outputs = [
    rot90(grid, 0),
    rot90(grid, 1),
    flipUpDown(grid),
    flipLeftRight(grid),
    transpose(grid),
    concatenate([grid, grid], 0),
    repeatCells(grid, 2, 0),
    roll(grid, 1, 0),
    mapColours(grid, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
  ];
  for (const out of outputs) {
    out[0][0] = 9;
    assert.equal(JSON.stringify(grid), before);
  }
});

test("mapColours maps every cell", () => {
  assert.deepEqual(mapColours(A, [0, 9, 8, 7, 6, 5, 4, 3, 2, 1]), [
    [9, 8, 7],
    [6, 5, 4],
  ]);
});
