import assert from "node:assert/strict";
import { test } from "node:test";
import type { Grid } from "../../../src/domains/arc/grid.js";
import { gridToNumpyText } from "../../../src/domains/arc/grid-text.js";
import { parseGridText } from "../../../src/domains/arc/output-parse.js";

const square: Grid = [
  [1, 2],
  [3, 4],
];

test("parses the model's numpy-style answer, terminator and surrounding whitespace included", () => {
  assert.deepEqual(parseGridText("[[1 2]\n [3 4]]#"), square);
  assert.deepEqual(parseGridText("[[1 2]\n [3 4]]"), square);
  assert.deepEqual(parseGridText("  [[1 2]\n [3 4]]#\n\n"), square);
  assert.deepEqual(parseGridText("[[1  2]\n [3   4]]##"), square);
  assert.deepEqual(parseGridText("[[1 2]\r\n [3 4]]#"), square);
  assert.deepEqual(parseGridText("[[5]]#"), [[5]]);
  assert.deepEqual(parseGridText("0 1 2"), [[0, 1, 2]]);
});

test("round-trips every grid the numpy formatter writes, up to 30×30", () => {
  for (let height = 1; height <= 30; height += 7)
    for (let width = 1; width <= 30; width += 4) {
      const grid = Array.from({ length: height }, (_, r) => Array.from({ length: width }, (_, c) => (r * 7 + c) % 10));
      assert.deepEqual(parseGridText(`${gridToNumpyText(grid)}#`), grid, `${height}×${width}`);
    }
  const full = Array.from({ length: 30 }, () => Array(30).fill(9));
  assert.deepEqual(parseGridText(gridToNumpyText(full)), full);
});

test("code fences: the text between the first pair is parsed, as in the reference", () => {
  assert.deepEqual(parseGridText("```\n[[1 2]\n [3 4]]\n```"), square);
  assert.deepEqual(parseGridText("Answer:\n```\n[[1 2]\n [3 4]]\n```\ndone"), square);
  // A language tag is not a number, so the reference fails on it too.
  assert.equal(parseGridText("```python\n[[1 2]]\n```"), null);
});

test("the shape comes from the newline count, as in the reference", () => {
  // Ragged lines whose count divides evenly are reshaped by default …
  assert.deepEqual(parseGridText("[[1 2 3]\n [4]]#"), square);
  // … and rejected on request.
  assert.equal(parseGridText("[[1 2 3]\n [4]]#", { requireEqualRows: true }), null);
  assert.deepEqual(parseGridText("[[1 2]\n [3 4]]#", { requireEqualRows: true }), square);
  // Missing closing brackets do not matter: brackets are dropped anyway.
  assert.deepEqual(parseGridText("[[1 2]\n [3 4"), square);
  // A blank line adds a row: 4 numbers do not fill 3 rows.
  assert.equal(parseGridText("[[1 2]\n\n [3 4]]"), null);
});

test("junk gives null, never an exception", () => {
  const junk = [
    "",
    "   ",
    "#",
    "[[]]",
    "[]",
    "hello",
    "The answer is [[1 2]]",
    "[[1 2]]# The answer is above",
    "[[1 2]\n [3",
    "[[1 2 3]\n [4 5]]",
    "[[1.5 2]]",
    "[[1,2],[3,4]]",
    "[[a b]]",
    "[[1 2]][[3 4]]",
    "```",
    "```\n```",
    "\u0663",
  ];
  for (const text of junk) assert.equal(parseGridText(text), null, JSON.stringify(text));
  assert.equal(parseGridText(undefined as unknown as string), null);
  assert.equal(parseGridText(42 as unknown as string), null);
});

test("only colours 0–9 and sides up to 30", () => {
  assert.equal(parseGridText("[[10 2]]"), null);
  assert.equal(parseGridText("[[-1 2]]"), null);
  assert.equal(parseGridText("[[256]]"), null);
  assert.equal(parseGridText("[[99999999999999999999999]]"), null);
  assert.deepEqual(parseGridText("[[+3 007]]"), [[3, 7]]);
  const minusZero = parseGridText("[[-0]]");
  assert.ok(minusZero !== null && Object.is(minusZero[0][0], 0));
  assert.equal(parseGridText(`[[${Array(31).fill(1).join(" ")}]]`), null);
  assert.equal(parseGridText(Array(31).fill("1").join("\n")), null);
  assert.deepEqual(parseGridText(Array(30).fill("1").join("\n")), Array(30).fill([1]));
});

test("random junk never throws and any grid returned is valid", () => {
  const alphabet = ["[", "]", " ", " ", "\n", "#", "`", "-", "+", "a", "."].concat("0123456789".split(""));
  let state = 7;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.floor((state / 2147483648) * n);
  };
  let grids = 0;
  for (let i = 0; i < 20000; i++) {
    let text = "";
    const length = next(40);
    for (let j = 0; j < length; j++) text += alphabet[next(alphabet.length)];
    const grid = parseGridText(text);
    if (grid === null) continue;
    grids++;
    assert.ok(grid.length >= 1 && grid.length <= 30, text);
    for (const row of grid) {
      assert.equal(row.length, grid[0].length, text);
      for (const cell of row) assert.ok(Number.isInteger(cell) && cell >= 0 && cell <= 9, text);
    }
  }
  assert.ok(grids > 0);
});
