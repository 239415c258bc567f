import assert from "node:assert/strict";
import { test } from "node:test";
import {
  permuteColors as reExportedColours,
  permuteExamples as reExportedExamples,
} from "../../../src/domains/arc/augment.js";
import type { ArcTask, Grid } from "../../../src/domains/arc/grid.js";
import {
  applyColourMap,
  drawColourMap,
  invertColourMap,
  permutation,
  permuteColors,
  permuteExamples,
  shuffleInPlace,
  usedColours,
} from "../../../src/domains/arc/permute.js";
import { taskKey } from "../../../src/domains/arc/task-key.js";
import { Rng } from "../../../src/engine/random.js";
import { arcDataMissing, loadTrainingTasks } from "./shared-data.js";

function allGrids(task: ArcTask): Grid[] {
  return [
    ...task.train.flatMap((example) => [example.input, example.output]),
    ...task.test.flatMap((testCase) =>
      testCase.output === undefined ? [testCase.input] : [testCase.input, testCase.output],
    ),
  ];
}

function isPermutation(map: readonly number[]): boolean {
  return map.length === 10 && [...map].sort((a, b) => a - b).every((value, i) => value === i);
}

test("augment.ts re-exports the two permutations; their names", () => {
  assert.equal(reExportedColours, permuteColors);
  assert.equal(reExportedExamples, permuteExamples);
  assert.equal(permuteColors.name, "PermuteColors");
  assert.equal(permuteExamples.name, "PermuteExamples");
});

test("shuffle and permutation are seeded permutations", () => {
  const p = permutation(10, new Rng(3));
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(p, permutation(10, new Rng(3)));
  assert.notDeepEqual(p, permutation(10, new Rng(4)));
  assert.deepEqual(shuffleInPlace([], new Rng(0)), []);
  assert.deepEqual(shuffleInPlace(["a"], new Rng(0)), ["a"]);
});

test("colour maps over all 400 training tasks: 0 fixed, a permutation, unused colours preferred, one map per task", {
  skip: arcDataMissing,
}, () => {
  const rng = new Rng(0);
  for (const task of loadTrainingTasks()) {
    const used = usedColours(task);
    const map = drawColourMap(task, rng);
    assert.equal(map[0], 0, task.id);
    assert.ok(isPermutation(map), `${task.id}: ${map}`);
    const unusedCount = 9 - used.length;
    if (unusedCount >= used.length) {
      // enough unused colours: every used colour moves to one the task does not use
      for (const colour of used) assert.ok(!used.includes(map[colour]), `${task.id}: ${colour} → ${map[colour]}`);
    }
    // one map for every grid of the task, the test output included
    const seed = rng.nextUint32();
    const permuted = permuteColors.applyToTask(task, new Rng(seed));
    const expectedMap = drawColourMap(task, new Rng(seed));
    const before = allGrids(task);
    const after = allGrids(permuted);
    for (let g = 0; g < before.length; g++) {
      assert.deepEqual(
        after[g],
        before[g].map((row) => row.map((cell) => expectedMap[cell])),
        task.id,
      );
    }
    // the inverse map restores the task
    assert.equal(taskKey(applyColourMap(permuted, invertColourMap(expectedMap))), taskKey(task));
  }
});

test("with all nine colours used, the map swaps used colours (an involution) and is still a bijection", () => {
  const task: ArcTask = {
    id: "all",
    train: [{ input: [[1, 2, 3, 4, 5]], output: [[6, 7, 8, 9, 0]] }],
    test: [{ input: [[1]] }],
  };
  let moved = 0;
  for (let seed = 0; seed < 50; seed++) {
    const map = drawColourMap(task, new Rng(seed));
    assert.ok(isPermutation(map));
    assert.equal(map[0], 0);
    for (let colour = 0; colour < 10; colour++) assert.equal(map[map[colour]], colour, `seed ${seed}: swaps`);
    if (map.some((target, colour) => target !== colour)) moved++;
  }
  assert.ok(moved > 40);
});

test("a partly full palette falls back to swaps once the unused colours run out", () => {
  // 7 used colours, 2 unused: two colours go to 8 and 9, the rest swap among the used
  const task: ArcTask = {
    id: "seven",
    train: [{ input: [[1, 2, 3, 4]], output: [[5, 6, 7, 0]] }],
    test: [{ input: [[1]] }],
  };
  // (a later swap may take back a colour already sent to 8 or 9, as in the reference, so only mostly)
  let reachedUnused = 0;
  for (let seed = 0; seed < 50; seed++) {
    const map = drawColourMap(task, new Rng(seed));
    assert.ok(isPermutation(map));
    const images = [1, 2, 3, 4, 5, 6, 7].map((colour) => map[colour]);
    assert.equal(new Set(images).size, 7);
    if (images.includes(8) || images.includes(9)) reachedUnused++;
  }
  assert.ok(reachedUnused > 25, `${reachedUnused} of 50`);
});

test("a task using only 0 keeps every grid", () => {
  const task: ArcTask = { id: "zero", train: [{ input: [[0]], output: [[0, 0]] }], test: [{ input: [[0]] }] };
  assert.deepEqual(permuteColors.applyToTask(task, new Rng(1)), task);
});

test("PermuteExamples reorders the demonstrations only", () => {
  const examples = [0, 1, 2, 3, 4].map((k) => ({ input: [[k]], output: [[k + 1]] }));
  const task: ArcTask = { id: "p", train: examples, test: [{ input: [[9]], output: [[8]] }] };
  const orders = new Set<string>();
  for (let seed = 0; seed < 30; seed++) {
    const result = permuteExamples.applyToTask(task, new Rng(seed));
    assert.deepEqual(result.test, task.test);
    assert.deepEqual(result.train.map((example) => example.input[0][0]).sort(), [0, 1, 2, 3, 4]);
    orders.add(result.train.map((example) => example.input[0][0]).join(""));
  }
  assert.ok(orders.size > 10);
  assert.deepEqual(task.train, examples, "the source is unchanged");
});
