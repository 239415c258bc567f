import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import {
  ARC_FILES,
  attachSolutions,
  EVAL_INSTANCES_1B,
  EVAL_SELF_EDIT_TASKS_1B,
  EVAL_SUBSET_1B,
  EVAL_TASKS_1B,
  expandTestInputs,
  parseChallenges,
  parseInstanceName,
  readArcTasks,
  readChallengesFile,
  readSolutionsFile,
  selectTasks,
  TRAIN_EVAL_INSTANCES_1B,
  TRAIN_SELF_EDIT_TASKS_1B,
  TRAIN_SUBSET_1B,
} from "../../../src/domains/arc/data.js";
import { gridsEqual } from "../../../src/domains/arc/grid.js";
import { tempDir } from "../../io/fixtures.js";
import { arcDataMissing, arcDataPath, loadTrainingTasks } from "./shared-data.js";

const trainSubset = () =>
  readArcTasks(arcDataPath(ARC_FILES.trainingSubsetChallenges), arcDataPath(ARC_FILES.trainingSubsetSolutions));
const evalSubset = () =>
  readArcTasks(arcDataPath(ARC_FILES.evaluationSubsetChallenges), arcDataPath(ARC_FILES.evaluationSubsetSolutions));

function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

/** Asserts that `fn` throws an error whose message contains every part. */
function throwsWith(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (error: Error) => {
    for (const part of parts) assert.ok(error.message.includes(part), `"${part}" not in: ${error.message}`);
    return true;
  });
}

const good = { train: [{ input: [[1, 2]], output: [[2, 1]] }], test: [{ input: [[3, 4]] }] };

test("training challenges: 400 tasks, 416 test inputs, solutions on every test input, file order kept", {
  skip: arcDataMissing,
}, () => {
  const tasks = loadTrainingTasks();
  assert.equal(tasks.length, 400);
  assert.equal(
    tasks.reduce((sum, task) => sum + task.test.length, 0),
    416,
  );
  assert.ok(tasks.every((task) => task.test.every((testCase) => testCase.output !== undefined)));
  assert.equal(tasks[0].id, "007bbfb7");
  assert.deepEqual(tasks[0].train[0].input, [
    [0, 7, 7],
    [7, 7, 7],
    [0, 7, 7],
  ]);
  assert.equal(tasks[0].train[0].output.length, 9);
  // the file is sorted by id; integer-like ids ("22168020") stay in place instead of moving first
  const ids = tasks.map((task) => task.id);
  assert.deepEqual(ids, [...ids].sort());
  assert.ok(ids.includes("22168020"));
  const challengesOnly = readChallengesFile(arcDataPath(ARC_FILES.trainingChallenges));
  assert.ok(challengesOnly.every((task) => task.test.every((testCase) => testCase.output === undefined)));
  assert.equal(readSolutionsFile(arcDataPath(ARC_FILES.trainingSolutions)).size, 400);
});

test("1B subsets: the files hold exactly the subset constants, in file order", { skip: arcDataMissing }, () => {
  const train = trainSubset();
  assert.deepEqual(
    train.map((task) => task.id),
    TRAIN_SUBSET_1B,
  );
  assert.equal(
    train.reduce((sum, task) => sum + task.test.length, 0),
    13,
  );
  assert.equal(selectTasks(train, ["44f52bb0"])[0].test.length, 2);
  const evaluation = evalSubset();
  // "59341089" is integer-like: JSON.parse would list it first, the file has it second
  assert.deepEqual(
    evaluation.map((task) => task.id),
    EVAL_SUBSET_1B,
  );
  assert.equal(
    evaluation.reduce((sum, task) => sum + task.test.length, 0),
    11,
  );
  assert.equal(selectTasks(evaluation, ["b1fc8b8e"])[0].test.length, 2);
});

test("the training subset agrees with the full training files", { skip: arcDataMissing }, () => {
  const full = loadTrainingTasks();
  for (const task of trainSubset()) {
    const same = selectTasks(full, [task.id])[0];
    assert.deepEqual(task, same);
  }
});

test("effective task lists follow self-edit.py --n_tasks: first N test inputs, -1 entries skipped", {
  skip: arcDataMissing,
}, () => {
  const firstN = (instances: { id: string }[], n: number) =>
    instances
      .slice(0, n)
      .map((instance) => parseInstanceName(instance.id))
      .filter((name) => name.testIndex === 0)
      .map((name) => name.taskId);
  assert.deepEqual(firstN(expandTestInputs(trainSubset()), 12), TRAIN_SELF_EDIT_TASKS_1B);
  assert.equal(TRAIN_SELF_EDIT_TASKS_1B.length, 11);
  assert.ok(!TRAIN_SELF_EDIT_TASKS_1B.includes("8e1813be"));
  assert.deepEqual(firstN(expandTestInputs(evalSubset()), 10), EVAL_SELF_EDIT_TASKS_1B);
  assert.equal(EVAL_SELF_EDIT_TASKS_1B.length, 9);
  assert.ok(!EVAL_SELF_EDIT_TASKS_1B.includes("ce8d95cc"));
});

test("evaluated instances exist in the subset files and name the 8 + 10 tasks", { skip: arcDataMissing }, () => {
  const evalInstances = selectTasks(expandTestInputs(evalSubset()), EVAL_INSTANCES_1B);
  assert.equal(evalInstances.length, 9);
  assert.deepEqual([...new Set(EVAL_INSTANCES_1B.map((name) => parseInstanceName(name).taskId))], EVAL_TASKS_1B);
  assert.deepEqual([...EVAL_TASKS_1B].sort(), [
    "59341089",
    "66e6c45b",
    "68b67ca3",
    "903d1b4a",
    "b1fc8b8e",
    "bc4146bd",
    "c7d4e6ad",
    "ce8d95cc",
  ]);
  const trainInstances = selectTasks(expandTestInputs(trainSubset()), TRAIN_EVAL_INSTANCES_1B);
  assert.equal(trainInstances.length, 11);
  assert.equal(new Set(TRAIN_EVAL_INSTANCES_1B.map((name) => parseInstanceName(name).taskId)).size, 10);
});

test("expandTestInputs: one instance per test input, named {id}-{k}, sharing the demonstrations", {
  skip: arcDataMissing,
}, () => {
  const tasks = loadTrainingTasks();
  const instances = expandTestInputs(tasks);
  assert.equal(instances.length, 416);
  assert.ok(instances.every((instance) => instance.test.length === 1));
  const [first, second] = selectTasks(instances, ["44f52bb0-0", "44f52bb0-1"]);
  const task = selectTasks(tasks, ["44f52bb0"])[0];
  assert.equal(first.train, task.train);
  assert.ok(gridsEqual(second.test[0].input, task.test[1].input));
  assert.ok(gridsEqual(second.test[0].output!, task.test[1].output!));
  assert.deepEqual(parseInstanceName("b1fc8b8e-1"), { taskId: "b1fc8b8e", testIndex: 1 });
  assert.throws(() => parseInstanceName("b1fc8b8e"), /instance name/);
  throwsWith(() => selectTasks(tasks, ["007bbfb7", "nope", "neither"], "training"), "training: no task nope, neither");
});

test("malformed challenge files: errors name the file, task, example, grid, cell and the problem", () => {
  const dir = tempDir("seal-arc-");
  const cases: [unknown, string[]][] = [
    [
      { abc: { train: [good.train[0], { input: [[1]], output: [[1, 2], [3]] }], test: good.test } },
      ["task abc: train[1].output: row 1: not rectangular: 1 cells where row 0 has 2"],
    ],
    [
      { abc: { train: good.train, test: [{ input: [[1, 2, 10]] }] } },
      ["task abc: test[0].input: row 0, column 2: expected a colour 0–9, got more than 9"],
    ],
    [
      { abc: { train: [{ input: [[-1]], output: [[1]] }], test: good.test } },
      ["train[0].input: row 0, column 0", "negative"],
    ],
    [
      { abc: { train: [{ input: [[1.5]], output: [[1]] }], test: good.test } },
      ["train[0].input: row 0, column 0", "integer"],
    ],
    [
      { abc: { train: [{ input: [["1"]], output: [[1]] }], test: good.test } },
      ["train[0].input: row 0, column 0: expected a colour"],
    ],
    [{ abc: { train: [{ input: [], output: [[1]] }], test: good.test } }, ["task abc: train[0].input: empty grid"]],
    [
      { abc: { train: [{ input: [[]], output: [[1]] }], test: good.test } },
      ["task abc: train[0].input: row 0: empty row"],
    ],
    [
      { abc: { train: [{ input: Array.from({ length: 31 }, () => [1]), output: [[1]] }], test: good.test } },
      ["task abc: train[0].input: more than 30 rows"],
    ],
    [
      { abc: { train: [{ input: [new Array(31).fill(1)], output: [[1]] }], test: good.test } },
      ["task abc: train[0].input: row 0: row wider than 30 cells"],
    ],
    [{ abc: { train: [{ input: [[1]] }], test: good.test } }, ["task abc: train[0].output: missing"]],
    [{ abc: { train: [{ input: 3, output: [[1]] }], test: good.test } }, ["task abc: train[0].input: expected a grid"]],
    [{ abc: { train: [], test: good.test } }, ["task abc: train: no train examples"]],
    [{ abc: { train: good.train, test: [] } }, ["task abc: test: no test inputs"]],
    [{ abc: { train: good.train } }, ["task abc: test: expected an array"]],
    [{ abc: 5 }, ["task abc: expected a task {train, test}"]],
    [[good], ["(top level): expected an object {task_id: {train, test}}"]],
  ];
  cases.forEach(([value, parts], index) => {
    const file = writeJson(dir, `challenges-${index}.json`, value);
    throwsWith(() => readChallengesFile(file), `${file}: `, ...parts);
  });
  // many problems: the first five are named, the rest counted
  const many = writeJson(dir, "many.json", {
    abc: { train: [{ input: [[10, 11, 12, 13, 14, 15, 16]], output: [[1]] }], test: good.test },
  });
  throwsWith(() => readChallengesFile(many), "(and 2 more problems)");
  throwsWith(() => readChallengesFile(writeJson(dir, "bad.json", "{not json")), "bad.json: not valid JSON");
  throwsWith(() => readChallengesFile(path.join(dir, "missing.json")), "missing.json: cannot read (ENOENT)");
});

test("a challenge test input may carry its output, validated like the rest", () => {
  const tasks = parseChallenges(
    JSON.stringify({ abc: { train: good.train, test: [{ input: [[1]], output: [[2]] }, { input: [[3]] }] } }),
    "inline.json",
  );
  assert.deepEqual(tasks[0].test, [{ input: [[1]], output: [[2]] }, { input: [[3]] }]);
  throwsWith(
    () =>
      parseChallenges(
        JSON.stringify({ abc: { train: good.train, test: [{ input: [[1]], output: [[1], [2, 3]] }] } }),
        "x.json",
      ),
    "x.json: task abc: test[0].output: row 1: not rectangular",
  );
});

test("solutions: joined by task, one grid per test input; mismatches name both files' task", () => {
  const dir = tempDir("seal-arc-");
  const challenges = writeJson(dir, "challenges.json", {
    "12345678": good,
    abc: { ...good, test: [{ input: [[1]] }, { input: [[2]] }] },
  });
  const solutions = writeJson(dir, "solutions.json", { abc: [[[5]], [[6]]], "12345678": [[[7, 8]]] });
  const tasks = readArcTasks(challenges, solutions);
  assert.deepEqual(
    tasks.map((task) => task.id),
    ["12345678", "abc"],
  );
  assert.deepEqual(tasks[1].test, [
    { input: [[1]], output: [[5]] },
    { input: [[2]], output: [[6]] },
  ]);
  assert.deepEqual(tasks[0].test, [{ input: [[3, 4]], output: [[7, 8]] }]);
  const bad: [unknown, string][] = [
    [{ abc: [[[5]]], "12345678": [[[7]]] }, "task abc: 1 solution grids for 2 test inputs"],
    [{ abc: [[[5]], [[6]]] }, "task 12345678: no solutions"],
    [{ abc: [[[5]], [[6]]], "12345678": [[[7]]], zzz: [[[1]]] }, "task zzz: not among the challenges"],
    [
      { abc: [[[5]], [[6], [7, 8]]], "12345678": [[[7]]] },
      "task abc: solution 1 (test[1].output): row 1: not rectangular",
    ],
    [{ abc: [[[5]], [[6, 10]]], "12345678": [[[7]]] }, "task abc: solution 1 (test[1].output): row 0, column 1"],
    [{ abc: [] }, "task abc: no solution grids"],
    [[1], "(top level): expected an object {task_id: [grid per test input]}"],
  ];
  bad.forEach(([value, part], index) => {
    const file = writeJson(dir, `solutions-${index}.json`, value);
    throwsWith(() => readArcTasks(challenges, file), `${file}: `, part);
  });
  // attachSolutions leaves its input alone
  const plain = readChallengesFile(challenges);
  const before = JSON.stringify(plain);
  attachSolutions(plain, readSolutionsFile(solutions), solutions);
  assert.equal(JSON.stringify(plain), before);
});
