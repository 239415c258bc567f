import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ALL_AUGMENTERS,
  applyInverter,
  augmenterByName,
  BASIC_AUGMENTERS,
  CHAIN_AUGMENTERS,
  chain,
  flip,
  IDENTITY_NAME,
  increaseHeight,
  increaseResolution,
  increaseWidth,
  inverseAugmenter,
  REPEAT_AUGMENTERS,
  randomTranslateXY,
  reflect,
  repeat,
  rotate,
  SIZE_AUGMENTERS,
  selectAugmenters,
  transposeAugmenter,
} from "../../../src/domains/arc/augment.js";
import type { ArcTask, Grid } from "../../../src/domains/arc/grid.js";
import { gridsEqual } from "../../../src/domains/arc/grid.js";
import { roll } from "../../../src/domains/arc/grid-transforms.js";
import { Rng } from "../../../src/engine/random.js";
import { arcDataMissing, loadTrainingTasks } from "./shared-data.js";

const A: Grid = [
  [1, 2, 3],
  [4, 5, 6],
];
const B: Grid = [
  [1, 2],
  [3, 4],
];

/** Every grid of a task: demo inputs and outputs, test inputs and (when present) outputs. */
function allGrids(task: ArcTask): Grid[] {
  return [
    ...task.train.flatMap((example) => [example.input, example.output]),
    ...task.test.flatMap((testCase) =>
      testCase.output === undefined ? [testCase.input] : [testCase.input, testCase.output],
    ),
  ];
}

test("the 23 augmenters: names and order of the reference's get_augmenters", () => {
  assert.deepEqual(
    ALL_AUGMENTERS.map((augmenter) => augmenter.name),
    [
      "Rotate(90)",
      "Rotate(270)",
      "Rotate(180)",
      "Flip(0)",
      "Flip(1)",
      "Reflect(0, reverse=True)",
      "Reflect(1, reverse=True)",
      "Reflect(0, reverse=False)",
      "Reflect(1, reverse=False)",
      "RandomTranslateXY",
      "Transpose",
      "IncreaseResolution(2)",
      "IncreaseHeight(2)",
      "IncreaseWidth(2)",
      "Chain([Rotate(90), IncreaseResolution(2)])",
      "Chain([Rotate(270), IncreaseResolution(2)])",
      "Chain([Rotate(180), IncreaseResolution(2)])",
      "Chain([Flip(0), IncreaseResolution(2)])",
      "Chain([Flip(1), IncreaseResolution(2)])",
      "Chain([Transpose, IncreaseResolution(2)])",
      "Repeat(0, 2)",
      "Repeat(1, 2)",
      "Repeat(2, 2)",
    ],
  );
  assert.equal(BASIC_AUGMENTERS.length, 11);
  assert.equal(SIZE_AUGMENTERS.length, 3);
  assert.equal(CHAIN_AUGMENTERS.length, 6);
  assert.equal(REPEAT_AUGMENTERS.length, 3);
  for (const augmenter of ALL_AUGMENTERS) assert.equal(augmenterByName(augmenter.name), augmenter);
  assert.equal(augmenterByName("Concat"), undefined);
});

test("selectAugmenters follows the self-edit's four booleans", () => {
  const none = { basic: false, size: false, chain: false, repeat: false };
  assert.deepEqual(selectAugmenters(none), []);
  assert.deepEqual(selectAugmenters({ ...none, basic: true }), BASIC_AUGMENTERS);
  assert.deepEqual(selectAugmenters({ ...none, size: true, repeat: true }), [...SIZE_AUGMENTERS, ...REPEAT_AUGMENTERS]);
  assert.deepEqual(selectAugmenters({ ...none, chain: true }), CHAIN_AUGMENTERS);
  assert.equal(selectAugmenters({ basic: true, size: true, chain: true, repeat: true }).length, 23);
});

test("hand-checked grids for each deterministic augmenter (numpy semantics)", () => {
  const cases: [string, Grid, Grid][] = [
    [
      rotate(90).name,
      B,
      [
        [2, 4],
        [1, 3],
      ],
    ],
    [
      rotate(90).name,
      A,
      [
        [3, 6],
        [2, 5],
        [1, 4],
      ],
    ],
    [
      rotate(180).name,
      A,
      [
        [6, 5, 4],
        [3, 2, 1],
      ],
    ],
    [
      rotate(270).name,
      A,
      [
        [4, 1],
        [5, 2],
        [6, 3],
      ],
    ],
    [
      flip(0).name,
      A,
      [
        [4, 5, 6],
        [1, 2, 3],
      ],
    ],
    [
      flip(1).name,
      A,
      [
        [3, 2, 1],
        [6, 5, 4],
      ],
    ],
    [
      reflect(0, false).name,
      A,
      [
        [1, 2, 3],
        [4, 5, 6],
        [4, 5, 6],
        [1, 2, 3],
      ],
    ],
    [
      reflect(0, true).name,
      A,
      [
        [4, 5, 6],
        [1, 2, 3],
        [1, 2, 3],
        [4, 5, 6],
      ],
    ],
    [
      reflect(1, false).name,
      A,
      [
        [1, 2, 3, 3, 2, 1],
        [4, 5, 6, 6, 5, 4],
      ],
    ],
    [
      reflect(1, true).name,
      A,
      [
        [3, 2, 1, 1, 2, 3],
        [6, 5, 4, 4, 5, 6],
      ],
    ],
    [
      transposeAugmenter.name,
      A,
      [
        [1, 4],
        [2, 5],
        [3, 6],
      ],
    ],
    [
      increaseResolution(2).name,
      B,
      [
        [1, 1, 2, 2],
        [1, 1, 2, 2],
        [3, 3, 4, 4],
        [3, 3, 4, 4],
      ],
    ],
    [
      increaseHeight(2).name,
      A,
      [
        [1, 2, 3],
        [1, 2, 3],
        [4, 5, 6],
        [4, 5, 6],
      ],
    ],
    [
      increaseWidth(2).name,
      A,
      [
        [1, 1, 2, 2, 3, 3],
        [4, 4, 5, 5, 6, 6],
      ],
    ],
    [
      "Chain([Rotate(90), IncreaseResolution(2)])",
      B,
      [
        [2, 2, 4, 4],
        [2, 2, 4, 4],
        [1, 1, 3, 3],
        [1, 1, 3, 3],
      ],
    ],
    [
      "Chain([Flip(1), IncreaseResolution(2)])",
      [[1, 2]],
      [
        [2, 2, 1, 1],
        [2, 2, 1, 1],
      ],
    ],
    [
      "Chain([Transpose, IncreaseResolution(2)])",
      [[1, 2]],
      [
        [1, 1],
        [1, 1],
        [2, 2],
        [2, 2],
      ],
    ],
    [
      repeat(0, 2).name,
      A,
      [
        [1, 2, 3],
        [4, 5, 6],
        [1, 2, 3],
        [4, 5, 6],
      ],
    ],
    [
      repeat(1, 2).name,
      A,
      [
        [1, 2, 3, 1, 2, 3],
        [4, 5, 6, 4, 5, 6],
      ],
    ],
    [
      repeat(2, 2).name,
      [[1, 2]],
      [
        [1, 2, 1, 2],
        [1, 2, 1, 2],
      ],
    ],
  ];
  for (const [name, grid, expected] of cases) {
    const augmenter = augmenterByName(name);
    assert.ok(augmenter !== undefined, name);
    const task: ArcTask = { id: "t", train: [{ input: grid, output: grid }], test: [{ input: grid }] };
    const result = augmenter.applyToTask(task, new Rng(0));
    assert.deepEqual(result.train[0].input, expected, name);
    assert.deepEqual(result.train[0].output, expected, name);
    assert.deepEqual(result.test[0].input, expected, name);
    assert.equal(result.test[0].output, undefined, `${name}: no test output appears`);
    assert.equal(result.id, "t");
  }
  assert.equal(chain([rotate(90), flip(0)]).name, "Chain([Rotate(90), Flip(0)])");
});

test("an augmenter transforms input and output of every example and the test, and keeps the source intact", () => {
  const task: ArcTask = {
    id: "x",
    train: [
      { input: A, output: B },
      { input: B, output: A },
    ],
    test: [{ input: A, output: B }, { input: B }],
  };
  const before = JSON.stringify(task);
  const result = rotate(90).applyToTask(task);
  assert.deepEqual(result.train[0], { input: rotate(90).applyToGrid(A), output: rotate(90).applyToGrid(B) });
  assert.deepEqual(result.train[1], { input: rotate(90).applyToGrid(B), output: rotate(90).applyToGrid(A) });
  assert.deepEqual(result.test, [
    { input: rotate(90).applyToGrid(A), output: rotate(90).applyToGrid(B) },
    { input: rotate(90).applyToGrid(B) },
  ]);
  assert.equal(JSON.stringify(task), before);
});

test("inverses: Rotate(90)↔Rotate(270), Rotate(180), Flip(0), Flip(1), Transpose; none for the others", () => {
  assert.equal(inverseAugmenter("Rotate(90)")?.name, "Rotate(270)");
  assert.equal(inverseAugmenter("Rotate(270)")?.name, "Rotate(90)");
  assert.equal(inverseAugmenter("Rotate(180)")?.name, "Rotate(180)");
  assert.equal(inverseAugmenter("Flip(0)")?.name, "Flip(0)");
  assert.equal(inverseAugmenter("Flip(1)")?.name, "Flip(1)");
  assert.equal(inverseAugmenter("Transpose")?.name, "Transpose");
  for (const name of ["Reflect(0, reverse=True)", "IncreaseResolution(2)", "Repeat(2, 2)", "RandomTranslateXY", "x"]) {
    assert.equal(inverseAugmenter(name), undefined, name);
  }
  assert.deepEqual(applyInverter(IDENTITY_NAME, A), A);
  assert.deepEqual(
    applyInverter("Rotate(270)", [
      [2, 4],
      [1, 3],
    ]),
    B,
  );
  assert.throws(() => applyInverter("Reflect(0, reverse=True)", A), /no inverter/);
});

test("round trip over all 400 training tasks: inverse(aug(g)) == g for every grid and invertible augmenter", {
  skip: arcDataMissing,
}, () => {
  const tasks = loadTrainingTasks();
  assert.equal(tasks.length, 400);
  const invertible = ALL_AUGMENTERS.filter((augmenter) => inverseAugmenter(augmenter.name) !== undefined);
  assert.deepEqual(
    invertible.map((augmenter) => augmenter.name),
    ["Rotate(90)", "Rotate(270)", "Rotate(180)", "Flip(0)", "Flip(1)", "Transpose"],
  );
  let checked = 0;
  for (const task of tasks) {
    for (const augmenter of invertible) {
      const inverse = inverseAugmenter(augmenter.name)!;
      const there = augmenter.applyToTask(task, new Rng(0));
      const back = inverse.applyToTask(there);
      const original = allGrids(task);
      const augmented = allGrids(there);
      const restored = allGrids(back);
      assert.equal(restored.length, original.length);
      for (let i = 0; i < original.length; i++) {
        assert.ok(gridsEqual(restored[i], original[i]), `${task.id} ${augmenter.name} grid ${i}`);
        assert.ok(gridsEqual(applyInverter(inverse.name, augmented[i]), original[i]));
        checked++;
      }
    }
  }
  assert.ok(checked > 6 * 400 * 6, `checked ${checked} grids`);
});

test("shapes over all 400 training tasks: rotations and transposes swap sides, size augmenters scale them", {
  skip: arcDataMissing,
}, () => {
  const expectShape: Record<string, (h: number, w: number) => [number, number]> = {
    "Rotate(90)": (h, w) => [w, h],
    "Rotate(180)": (h, w) => [h, w],
    "Reflect(0, reverse=True)": (h, w) => [2 * h, w],
    "Reflect(1, reverse=False)": (h, w) => [h, 2 * w],
    RandomTranslateXY: (h, w) => [h, w],
    Transpose: (h, w) => [w, h],
    "IncreaseResolution(2)": (h, w) => [2 * h, 2 * w],
    "IncreaseHeight(2)": (h, w) => [2 * h, w],
    "IncreaseWidth(2)": (h, w) => [h, 2 * w],
    "Chain([Rotate(270), IncreaseResolution(2)])": (h, w) => [2 * w, 2 * h],
    "Repeat(0, 2)": (h, w) => [2 * h, w],
    "Repeat(2, 2)": (h, w) => [2 * h, 2 * w],
  };
  const rng = new Rng(1);
  for (const task of loadTrainingTasks()) {
    for (const [name, shape] of Object.entries(expectShape)) {
      const original = allGrids(task);
      const augmented = allGrids(augmenterByName(name)!.applyToTask(task, rng));
      for (let i = 0; i < original.length; i++) {
        const [h, w] = shape(original[i].length, original[i][0].length);
        assert.equal(augmented[i].length, h, `${task.id} ${name}`);
        assert.ok(
          augmented[i].every((row) => row.length === w),
          `${task.id} ${name}`,
        );
      }
    }
  }
});

/** The (rows, cols) shifts s with roll(from, s) == to, among 0–3 each. */
function shiftsBetween(from: Grid, to: Grid): string[] {
  const out: string[] = [];
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) if (gridsEqual(roll(from, r, c), to)) out.push(`${r},${c}`);
  return out;
}

test("RandomTranslateXY: every example and the test draw the same shifts; outputs take the next draws", () => {
  // cells numbered 0..24 so a 5×5 grid's shift is identifiable (augmenters do not check colours)
  const numbered = (offset: number): Grid =>
    Array.from({ length: 5 }, (_, r) => Array.from({ length: 5 }, (_, c) => (r * 5 + c + offset) % 25));
  const task: ArcTask = {
    id: "t",
    train: [0, 1, 2].map((k) => ({ input: numbered(k), output: numbered(k + 7) })),
    test: [{ input: numbered(3), output: numbered(11) }],
  };
  let inputOutputDiffer = 0;
  for (let seed = 0; seed < 40; seed++) {
    const result = randomTranslateXY.applyToTask(task, new Rng(seed));
    const inputShifts = [
      ...result.train.map((example, k) => shiftsBetween(task.train[k].input, example.input)),
      shiftsBetween(task.test[0].input, result.test[0].input),
    ];
    const outputShifts = [
      ...result.train.map((example, k) => shiftsBetween(task.train[k].output, example.output)),
      shiftsBetween(task.test[0].output!, result.test[0].output!),
    ];
    for (const shifts of [...inputShifts, ...outputShifts]) assert.equal(shifts.length, 1, "a shift in [0, 4)²");
    assert.ok(
      inputShifts.every((shifts) => shifts[0] === inputShifts[0][0]),
      `seed ${seed}: inputs share`,
    );
    assert.ok(
      outputShifts.every((shifts) => shifts[0] === outputShifts[0][0]),
      `seed ${seed}: outputs share`,
    );
    if (inputShifts[0][0] !== outputShifts[0][0]) inputOutputDiffer++;
  }
  assert.ok(inputOutputDiffer > 20, "input and output of a pair draw different values");
});

test("RandomTranslateXY: shifts take every value in [0, 4) and none above, on a 6×6 grid", () => {
  const grid = Array.from({ length: 6 }, (_, r) => Array.from({ length: 6 }, (_, c) => r * 6 + c));
  const task: ArcTask = { id: "t", train: [{ input: grid, output: grid }], test: [{ input: grid }] };
  const rows = new Set<number>();
  const cols = new Set<number>();
  for (let seed = 0; seed < 200; seed++) {
    const moved = randomTranslateXY.applyToTask(task, new Rng(seed)).train[0].input;
    // the cell 0 lands at (shift rows, shift cols)
    const r = moved.findIndex((row) => row.includes(0));
    rows.add(r);
    cols.add(moved[r].indexOf(0));
  }
  assert.deepEqual([...rows].sort(), [0, 1, 2, 3]);
  assert.deepEqual([...cols].sort(), [0, 1, 2, 3]);
});

test("RandomTranslateXY: the same seed gives the same result; different tasks from one rng get fresh draws", {
  skip: arcDataMissing,
}, () => {
  const task = loadTrainingTasks()[0];
  assert.deepEqual(randomTranslateXY.applyToTask(task, new Rng(5)), randomTranslateXY.applyToTask(task, new Rng(5)));
  const rng = new Rng(5);
  const draws = new Set<string>();
  for (let i = 0; i < 10; i++) draws.add(JSON.stringify(randomTranslateXY.applyToTask(task, rng).train[0].input));
  assert.ok(draws.size > 1);
});
