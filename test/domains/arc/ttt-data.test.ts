import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL_AUGMENTERS, BASIC_AUGMENTERS, selectAugmenters } from "../../../src/domains/arc/augment.js";
import { combinations } from "../../../src/domains/arc/combinations.js";
import type { ArcTask, Example, Grid } from "../../../src/domains/arc/grid.js";
import { dedupeBy, taskKey, taskMaxSide } from "../../../src/domains/arc/task-key.js";
import { buildTttData, leaveNTasks, TTT_DATA_DEFAULTS } from "../../../src/domains/arc/ttt-data.js";
import { arcDataMissing, loadTrainingTasks } from "./shared-data.js";

const uniform = (colour: number, h = 2, w = 2): Grid => Array.from({ length: h }, () => new Array(w).fill(colour));

function task(examples: Example[]): ArcTask {
  return { id: "src", train: examples, test: [{ input: [[0]] }] };
}

const four = task([0, 1, 2, 3].map((k) => ({ input: [[k, 1]], output: [[1, k]] })));

function cellCount(t: ArcTask): number {
  let cells = 0;
  for (const example of t.train) cells += example.input.flat().length + example.output.flat().length;
  for (const testCase of t.test) cells += testCase.input.flat().length + (testCase.output?.flat().length ?? 0);
  return cells;
}

test("combinations follow itertools order", () => {
  assert.deepEqual(combinations([0, 1, 2, 3], 2), [
    [0, 1],
    [0, 2],
    [0, 3],
    [1, 2],
    [1, 3],
    [2, 3],
  ]);
  assert.deepEqual(combinations([5, 6], 0), [[]]);
  assert.deepEqual(combinations([5, 6], 3), []);
});

test("defaults are the reference's: leave_n [1, 2], permute_n 1, Nmax 250, 8192 tokens, seed 0", () => {
  assert.deepEqual(TTT_DATA_DEFAULTS, { leaveN: [1, 2], permuteN: 1, maxTasks: 250, maxTokens: 8192, seed: 0 });
});

test("leave-1: each demonstration is the pseudo-test once, the others stay in order", () => {
  const tasks = leaveNTasks(four, 1);
  assert.equal(tasks.length, 4);
  tasks.forEach((item, i) => {
    assert.deepEqual(item.task.test, [four.train[i]]);
    assert.deepEqual(
      item.task.train,
      four.train.filter((_, j) => j !== i),
    );
    assert.equal(item.task.id, "src");
    assert.deepEqual(item.recipe, [`leave-1(test=${i})`]);
  });
});

test("leave-2: every ordered (i, j ≠ i), test i, demos all but i and j", () => {
  const tasks = leaveNTasks(four, 2);
  assert.equal(tasks.length, 12);
  const seen = new Set<string>();
  for (const item of tasks) {
    assert.equal(item.task.train.length, 2);
    const test = four.train.findIndex((example) => example.input[0][0] === item.task.test[0].input[0][0]);
    const demos = item.task.train.map((example) => example.input[0][0]);
    const j = [0, 1, 2, 3].find((k) => k !== test && !demos.includes(k))!;
    assert.deepEqual(
      demos,
      [0, 1, 2, 3].filter((k) => k !== test && k !== j),
    );
    seen.add(`${test},${j}`);
  }
  assert.equal(seen.size, 12);
});

test("leave-n counts over all 400 training tasks: N for n=1 and N(N−1) for n=2", { skip: arcDataMissing }, () => {
  for (const t of loadTrainingTasks()) {
    const n = t.train.length;
    assert.equal(leaveNTasks(t, 1).length, n, t.id);
    assert.equal(leaveNTasks(t, 2).length, n * (n - 1), t.id);
  }
});

test("augmented tasks with a side over 30 are dropped and counted", () => {
  // a 16×16 grid doubles to 32 under Reflect (4) and the size (3), chain (6) and repeat (3) augmenters: 16 of 23
  const big = task([
    { input: uniform(1, 16, 16), output: uniform(2, 16, 16) },
    { input: uniform(3, 3, 3), output: uniform(4, 3, 3) },
  ]);
  const data = buildTttData(big, { augmenters: ALL_AUGMENTERS, leaveN: [1] });
  assert.equal(data.perN[0].base, 2);
  assert.equal(data.perN[0].oversized, 16 * 2);
  assert.equal(data.perN[0].augmented, 7 * 2);
  for (const item of data.tasks) assert.ok(taskMaxSide(item.task) <= 30);
  // exactly 30 is kept: a 15×15 grid doubles to 30
  const edge = task([
    { input: uniform(1, 15, 15), output: uniform(2, 15, 15) },
    { input: uniform(3), output: uniform(4) },
  ]);
  assert.equal(buildTttData(edge, { augmenters: ALL_AUGMENTERS, leaveN: [1] }).perN[0].oversized, 0);
});

test("de-duplication: symmetric grids make many augmentations equal to the originals", () => {
  // uniform 2×2 grids: every rotation, flip, translation and transpose gives the original back; the size changing
  // augmenters give 4×2, 2×4 or 4×4 versions, the same whichever augmenter made them
  const symmetric = task([
    { input: uniform(1), output: uniform(2) },
    { input: uniform(3), output: uniform(4) },
    { input: uniform(5), output: uniform(6) },
  ]);
  const data = buildTttData(symmetric, { augmenters: ALL_AUGMENTERS, leaveN: [1] });
  const stats = data.perN[0];
  assert.equal(stats.base, 3);
  assert.equal(stats.augmented, 3 * 23);
  assert.equal(stats.unique, 3 * 4);
  assert.ok(stats.withPermutations > stats.unique && stats.withPermutations <= 2 * stats.unique);
  const keys = data.tasks.map((item) => taskKey(item.task));
  assert.equal(new Set(keys).size, keys.length, "no two returned tasks are equal");
  // the first of equal tasks is kept: the originals
  assert.deepEqual(
    data.tasks.slice(0, 3).map((item) => item.recipe),
    [["leave-1(test=0)"], ["leave-1(test=1)"], ["leave-1(test=2)"]],
  );
});

test("permuted copies: colours only when an augmenter is selected, example order always", () => {
  const none = buildTttData(four, { augmenters: [], leaveN: [1] });
  assert.equal(none.perN[0].augmented, 0);
  for (const item of none.tasks) {
    assert.ok(!item.recipe.includes("PermuteColors"));
    // colours unchanged: every grid uses the source's colours
    for (const example of [...item.task.train, ...item.task.test]) {
      assert.ok([...example.input.flat(), ...(example.output ?? []).flat()].every((cell) => cell <= 3));
    }
  }
  const some = buildTttData(four, { augmenters: BASIC_AUGMENTERS, leaveN: [1] });
  const permuted = some.tasks.filter((item) => item.recipe.includes("PermuteColors"));
  assert.ok(permuted.length > 0);
  assert.ok(permuted.every((item) => item.recipe.at(-1) === "PermuteExamples"));
});

test("every task has one test case with its output and the source id", { skip: arcDataMissing }, () => {
  const source = loadTrainingTasks()[5];
  const data = buildTttData(source, { augmenters: ALL_AUGMENTERS });
  for (const item of data.tasks) {
    assert.equal(item.task.id, source.id);
    assert.equal(item.task.test.length, 1);
    assert.ok(item.task.test[0].output !== undefined);
    assert.equal(item.task.train.length, source.train.length - item.leaveN);
  }
});

test("token filter: tasks at or over maxTokens are dropped, counted per n", { skip: arcDataMissing }, () => {
  const source = loadTrainingTasks()[5];
  const counts = buildTttData(source, { augmenters: ALL_AUGMENTERS, maxTasks: 100000 }).tasks.map((item) =>
    cellCount(item.task),
  );
  const threshold = [...counts].sort((a, b) => a - b)[Math.floor(counts.length / 2)];
  const data = buildTttData(source, {
    augmenters: ALL_AUGMENTERS,
    maxTasks: 100000,
    maxTokens: threshold,
    tokenCount: cellCount,
  });
  assert.ok(data.tasks.every((item) => cellCount(item.task) < threshold));
  assert.equal(data.tasks.length, counts.filter((count) => count < threshold).length);
  assert.equal(
    data.perN.reduce((sum, stats) => sum + stats.overTokens, 0),
    counts.length - data.tasks.length,
  );
});

test("cap: over 250 tasks a seeded shuffle keeps 250; the same seed gives the same tasks in the same order", {
  skip: arcDataMissing,
}, () => {
  const source = loadTrainingTasks().find((t) => t.train.length >= 4 && taskMaxSide(t) <= 10)!;
  const options = { augmenters: ALL_AUGMENTERS };
  const first = buildTttData(source, options);
  assert.ok(first.beforeCap > 250, `${first.beforeCap}`);
  assert.equal(first.tasks.length, 250);
  const keys = (data: ReturnType<typeof buildTttData>) => data.tasks.map((item) => taskKey(item.task));
  assert.deepEqual(keys(buildTttData(source, options)), keys(first));
  assert.notDeepEqual(keys(buildTttData(source, { ...options, seed: 1 })), keys(first));
  assert.equal(buildTttData(source, { ...options, maxTasks: 10 }).tasks.length, 10);
  // the uncapped data hold every capped task
  const all = new Set(keys(buildTttData(source, { ...options, maxTasks: Number.POSITIVE_INFINITY })));
  assert.ok(keys(first).every((key) => all.has(key)));
  assert.equal(dedupeBy(first.tasks, (item) => taskKey(item.task)).length, 250);
});

test("under the cap nothing is shuffled: n=1 tasks come before n=2 tasks", () => {
  const data = buildTttData(four, {
    augmenters: selectAugmenters({ basic: false, size: true, chain: false, repeat: false }),
  });
  assert.ok(data.beforeCap <= 250);
  const ns = data.tasks.map((item) => item.leaveN);
  assert.deepEqual(ns, [...ns].sort());
  assert.deepEqual(
    data.perN.map((stats) => stats.n),
    [1, 2],
  );
  assert.equal(data.perN[0].base, 4);
  assert.equal(data.perN[1].base, 12);
});
