import assert from "node:assert/strict";
import { test } from "node:test";
import type { Grid } from "../../../src/domains/arc/grid.js";
import {
  type PairScore,
  PLACEHOLDER_ATTEMPT,
  referenceFinalResults,
  scorePair,
  successRate,
  taskRows,
  testInputCorrect,
} from "../../../src/domains/arc/score.js";

const s1: Grid = [
  [1, 2],
  [3, 4],
];
const s2: Grid = [[5, 6, 7]];
const wrong: Grid = [
  [1, 2],
  [3, 5],
];

test("a test input is correct when either attempt equals the solution exactly", () => {
  assert.equal(testInputCorrect([s1, wrong], s1), true);
  assert.equal(testInputCorrect([wrong, s1], s1), true);
  assert.equal(testInputCorrect([wrong, wrong], s1), false);
  assert.equal(testInputCorrect([[[1, 2, 3, 4]]], s1), false, "same cells, other shape");
  assert.equal(testInputCorrect([[[1, 2]]], s1), false, "a prefix is not equal");
  assert.equal(testInputCorrect([], s1), false);
  assert.equal(testInputCorrect(null, s1), false);
  assert.equal(testInputCorrect(undefined, s1), false);
  assert.deepEqual(PLACEHOLDER_ATTEMPT, [[0]]);
});

test("a multi-test task is correct only if every test input is submitted and correct", () => {
  const solutions = [s1, s2];
  assert.equal(
    scorePair("t", 0, solutions, [
      [s1, wrong],
      [wrong, s2],
    ]).correct,
    true,
  );
  const oneWrong = scorePair("t", 0, solutions, [
    [s1, wrong],
    [wrong, wrong],
  ]);
  assert.equal(oneWrong.correct, false);
  assert.deepEqual(oneWrong.tests, [true, false]);
  assert.equal(oneWrong.allSubmitted, true);
  const missing = scorePair("t", 0, solutions, [[s1, s1]]);
  assert.equal(missing.correct, false);
  assert.equal(missing.allSubmitted, false);
  assert.deepEqual(missing.tests, [true, false]);
  const hole = scorePair("t", 0, solutions, [null, [s2, s2]]);
  assert.equal(hole.correct, false);
  assert.equal(hole.allSubmitted, false);
  assert.deepEqual(hole.tests, [false, true]);
  const extra = scorePair(
    "t",
    0,
    [s1],
    [
      [s1, s1],
      [s2, s2],
    ],
  );
  assert.equal(extra.allSubmitted, false);
  assert.equal(extra.correct, false);
  assert.equal(scorePair("t", 0, [s1], [[s1, s1]]).correct, true);
});

function pairs(): PairScore[] {
  // Two tasks × three edits; "b" has two test inputs.
  return [
    scorePair(
      "b",
      2,
      [s1, s2],
      [
        [s1, s1],
        [s2, s2],
      ],
    ),
    scorePair("a", 0, [s1], [[s1, wrong]]),
    scorePair("a", 1, [s1], [[wrong, wrong]]),
    scorePair(
      "b",
      0,
      [s1, s2],
      [
        [s1, s1],
        [wrong, wrong],
      ],
    ),
    scorePair("a", 2, [s1], [[wrong, s1]]),
    scorePair("b", 1, [s1, s2], [[s1, s1]]),
  ];
}

test("success rate = solved (task, edit) pairs / all pairs", () => {
  assert.deepEqual(successRate(pairs()), { solved: 3, pairs: 6, rate: 0.5 });
  assert.deepEqual(successRate([]), { solved: 0, pairs: 0, rate: 0 });
  const doubled = [...pairs(), scorePair("a", 0, [s1], [[s1, s1]])];
  assert.throws(() => successRate(doubled), /task a edit 0 is scored twice/);
});

test("per-task rows: tasks by id, edits in order, test counts", () => {
  assert.deepEqual(taskRows(pairs()), [
    {
      taskId: "a",
      edits: 3,
      solved: 2,
      rate: 2 / 3,
      byEdit: [
        { edit: 0, correct: true, testsCorrect: 1, tests: 1 },
        { edit: 1, correct: false, testsCorrect: 0, tests: 1 },
        { edit: 2, correct: true, testsCorrect: 1, tests: 1 },
      ],
    },
    {
      taskId: "b",
      edits: 3,
      solved: 1,
      rate: 1 / 3,
      byEdit: [
        { edit: 0, correct: false, testsCorrect: 1, tests: 2 },
        { edit: 1, correct: false, testsCorrect: 1, tests: 2 },
        { edit: 2, correct: true, testsCorrect: 2, tests: 2 },
      ],
    },
  ]);
  assert.deepEqual(taskRows([]), []);
});

test("the reference's final_results.json layout", () => {
  assert.deepEqual(referenceFinalResults(pairs()), {
    "0": { task_id: { "0": "a", "1": "b" }, correct: { "0": true, "1": false } },
    "1": { task_id: { "0": "a", "1": "b" }, correct: { "0": false, "1": false } },
    "2": { task_id: { "0": "a", "1": "b" }, correct: { "0": true, "1": true } },
  });
  // The shape of the repository's own file (its baseline run: 8 tasks, all wrong).
  const ids = ["59341089", "66e6c45b", "68b67ca3", "903d1b4a", "b1fc8b8e", "bc4146bd", "c7d4e6ad", "ce8d95cc"];
  const baseline = ids
    .slice()
    .reverse()
    .map((id) => scorePair(id, 0, [s1], [[PLACEHOLDER_ATTEMPT, PLACEHOLDER_ATTEMPT]]));
  assert.equal(
    JSON.stringify(referenceFinalResults(baseline)),
    '{"0":{"task_id":{"0":"59341089","1":"66e6c45b","2":"68b67ca3","3":"903d1b4a","4":"b1fc8b8e","5":"bc4146bd",' +
      '"6":"c7d4e6ad","7":"ce8d95cc"},"correct":{"0":false,"1":false,"2":false,"3":false,"4":false,"5":false,' +
      '"6":false,"7":false}}}',
  );
});
