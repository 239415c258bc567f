import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { readArcTasks } from "../../../src/domains/arc/data.js";
import { type ArcEvalRecord, pairScoreOf } from "../../../src/domains/arc/eval-records.js";
import type { ArcTask, Grid } from "../../../src/domains/arc/grid.js";
import type { InstancePrediction } from "../../../src/domains/arc/predict.js";
import { loadArcEngine } from "../../../src/domains/arc/run-common.js";
import { type ArcEvalPredictor, type ArcEvalRequest, runArcEval } from "../../../src/domains/arc/run-eval.js";
import { runArcTtt } from "../../../src/domains/arc/run-ttt.js";
import { referenceFinalResults, successRate } from "../../../src/domains/arc/score.js";
import {
  ALL_TOKENS_CONFIG,
  ARC_TEST_TASKS,
  arcDataMissing,
  createTinyLlama,
  INVALID_CONFIG,
  quickPredictSettings,
  quickTttSettings,
  readRecords,
  SILENT,
  summaryWithoutTiming,
  TRAINING_CONFIG,
  writeArcFixture,
  writeSelfEditFile,
} from "./run-fixtures.js";

const missing = arcDataMissing();

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

/** The success rate recomputed with score.ts from records.jsonl and the solutions file alone. */
function rateFromRecords(dir: string, tasks: readonly ArcTask[]) {
  const solutions = new Map(tasks.map((task) => [task.id, task.test.map((t) => t.output as Grid)]));
  const scores = readRecords<ArcEvalRecord>(dir).map((r) => pairScoreOf(r, solutions.get(r.taskId)!));
  return { rate: successRate(scores), finalResults: referenceFinalResults(scores) };
}

function prediction(attempts: Grid[] | null): InstancePrediction {
  return { attempts, answers: [], fallback: false };
}

describe("arc eval run", { skip: missing ?? false }, () => {
  if (missing) return;
  const fixture = writeArcFixture("seal-arc-eval-");
  after(() => fs.rmSync(fixture.root, { recursive: true, force: true }));
  const tasks = readArcTasks(fixture.challenges, fixture.solutions);
  const modelDir = createTinyLlama(fixture.root);
  const engine = loadArcEngine(modelDir, { needsChatTemplate: true });
  const selfEdits = path.join(fixture.root, "self_edits.json");
  // 6150a2bd: trained + zero-effect; 5582e5ca: one self-edit (edit 1 missing); 44f52bb0: two, two test inputs
  writeSelfEditFile(selfEdits, {
    "6150a2bd": [TRAINING_CONFIG, INVALID_CONFIG],
    "5582e5ca": [TRAINING_CONFIG],
    "44f52bb0": [ALL_TOKENS_CONFIG, TRAINING_CONFIG],
  });
  const ttt = path.join(fixture.root, "ttt");
  runArcTtt({
    modelDir,
    challengesPath: fixture.challenges,
    outDir: ttt,
    resume: false,
    selection: {},
    source: { kind: "self-edits", path: selfEdits },
    settings: quickTttSettings(),
    engine,
    progressStream: SILENT,
  });
  const request = (outDir: string, extra: Partial<ArcEvalRequest> = {}): ArcEvalRequest => ({
    modelDir,
    challengesPath: fixture.challenges,
    solutionsPath: fixture.solutions,
    outDir,
    resume: false,
    tttDir: ttt,
    selection: {},
    predict: quickPredictSettings(),
    engine,
    progressStream: SILENT,
    ...extra,
  });
  const full = path.join(fixture.root, "full");
  const summary = runArcEval(request(full));

  it("evaluates every (task, edit) of the TTT run with its adapter; a pair without one is scored wrong", () => {
    const records = readRecords<ArcEvalRecord>(full);
    assert.deepEqual(
      records.map((r) => [r.key, r.status]),
      [
        ["task-6150a2bd/edit-0", "trained"],
        ["task-6150a2bd/edit-1", "zero-effect"],
        ["task-5582e5ca/edit-0", "trained"],
        ["task-5582e5ca/edit-1", "no-config"],
        ["task-44f52bb0/edit-0", "trained"],
        ["task-44f52bb0/edit-1", "trained"],
      ],
    );
    assert.equal(records[0].adapter, path.join(ttt, "adapters", "6150a2bd", "0"));
    assert.deepEqual(records[3].instances, [], "no adapter: nothing to predict");
    assert.equal(records[3].correct, false);
    assert.deepEqual(
      records[4].instances.map((i) => i.name),
      ["44f52bb0-0", "44f52bb0-1"],
    );
    for (const instance of records[0].instances) {
      assert.equal(instance.queries, 3, "--max-queries 3");
      assert.equal(instance.answers.length, 3);
    }
    assert.equal(summary.withoutAdapter, 1);
    assert.deepEqual(summary.edits, [0, 1]);
    assert.equal(summary.pairs, 6);
  });

  it("pairs answered together (each with its adapter in one decode batch) give the answers of one at a time", () => {
    const out = path.join(fixture.root, "one-at-a-time");
    runArcEval(request(out, { parallelAdapters: 1 }));
    const answersOf = (dir: string) =>
      readRecords<ArcEvalRecord>(dir).map((r) => ({
        key: r.key,
        instances: r.instances.map((i) => ({ attempts: i.attempts, answers: i.answers.map((a) => a.text) })),
      }));
    const together = answersOf(full);
    assert.deepEqual(answersOf(out), together);
    assert.equal(together.flatMap((pair) => pair.instances).length, 7, "the test inputs of the 5 pairs with adapters");
  });

  it("its success rate and final_results.json are what score.ts computes from the records", () => {
    const { rate, finalResults } = rateFromRecords(full, tasks);
    assert.deepEqual(summary.successRate, rate);
    assert.equal(rate.pairs, 6);
    assert.deepEqual(readJson(path.join(full, "final_results.json")), finalResults);
    assert.deepEqual(Object.keys(finalResults), ["0", "1"]);
    assert.match(fs.readFileSync(path.join(full, "summary.md"), "utf8"), /Success rate: \d+\/6/);
  });

  it("with stand-in predictions: solved pairs, a task right only when all its test inputs are", () => {
    const calls: string[] = [];
    const solution = (instance: ArcTask) => instance.test[0].output as Grid;
    const predictor: ArcEvalPredictor = (instance, pair) => {
      calls.push(`${instance.id}/${pair.edit}:${pair.adapter === null ? "none" : path.basename(pair.adapter)}`);
      const right = solution(instance);
      const wrong: Grid = [[9, 9]];
      if (pair.taskId === "6150a2bd") return prediction([wrong, right]);
      if (pair.taskId === "5582e5ca") return prediction([wrong, wrong]);
      if (pair.edit === 0) return prediction(instance.id.endsWith("-0") ? [right, wrong] : null);
      return prediction([right, right]);
    };
    const out = path.join(fixture.root, "stand-in");
    const result = runArcEval(request(out, { predictor }));
    assert.deepEqual(calls, [
      "6150a2bd-0/0:0",
      "6150a2bd-0/1:1",
      "5582e5ca-0/0:0",
      "44f52bb0-0/0:0",
      "44f52bb0-1/0:0",
      "44f52bb0-0/1:1",
      "44f52bb0-1/1:1",
    ]);
    assert.deepEqual(result.successRate, { solved: 3, pairs: 6, rate: 0.5 });
    assert.deepEqual(result.successRate, rateFromRecords(out, tasks).rate);
    assert.deepEqual(result.bestOfConfigs.solvedTasks, ["6150a2bd", "44f52bb0"]);
    const row = result.perTask.find((r) => r.taskId === "44f52bb0")!;
    assert.deepEqual(row.byEdit, [
      { edit: 0, correct: false, testsCorrect: 1, tests: 2 },
      { edit: 1, correct: true, testsCorrect: 2, tests: 2 },
    ]);
    assert.deepEqual(readJson(path.join(out, "final_results.json")), {
      "0": {
        task_id: { "0": "44f52bb0", "1": "5582e5ca", "2": "6150a2bd" },
        correct: { "0": false, "1": false, "2": true },
      },
      "1": {
        task_id: { "0": "44f52bb0", "1": "5582e5ca", "2": "6150a2bd" },
        correct: { "0": true, "1": false, "2": true },
      },
    });
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /Success rate: 3\/6 = 50\.0%/);

    // one test input of a two-input task evaluated: the other is not submitted, so the task is wrong
    const single = runArcEval(request(path.join(fixture.root, "single"), { predictor, instances: ["44f52bb0-1"] }));
    assert.deepEqual(single.tasks, ["44f52bb0"]);
    assert.deepEqual(single.successRate, { solved: 0, pairs: 2, rate: 0 });
  });

  it("a run interrupted after its first pair and resumed ends like the uninterrupted run", () => {
    const out = path.join(fixture.root, "resumed");
    assert.throws(
      () =>
        runArcEval(
          request(out, {
            afterUnit: () => {
              throw new Error("simulated crash");
            },
          }),
        ),
      /simulated crash/,
    );
    assert.equal(readRecords(out).length, 1);
    runArcEval(request(out, { resume: true }));
    assert.deepEqual(summaryWithoutTiming(out), summaryWithoutTiming(full));
    assert.deepEqual(readJson(path.join(out, "final_results.json")), readJson(path.join(full, "final_results.json")));
  });

  it("--no-adapter: the base model, one pair per task; the reference's layout under edit 0", () => {
    const out = path.join(fixture.root, "baseline");
    const result = runArcEval(request(out, { tttDir: null, selection: { taskIds: [...ARC_TEST_TASKS] } }));
    assert.equal(result.mode, "no-adapter");
    assert.deepEqual(result.edits, [0]);
    assert.equal(result.pairs, 3);
    assert.ok(readRecords<ArcEvalRecord>(out).every((r) => r.status === "base-model" && r.adapter === null));
    assert.deepEqual(Object.keys(readJson(path.join(out, "final_results.json")) as object), ["0"]);
    assert.deepEqual(result.successRate, rateFromRecords(out, tasks).rate);
    assert.throws(() => runArcEval(request(path.join(fixture.root, "unchosen"), { tttDir: null })), /choose the tasks/);
  });

  it("refuses adapters trained on another model, and names unknown tasks and test inputs", () => {
    const other = path.join(fixture.root, "other-model");
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, "config.json"), "{}");
    assert.throws(
      () => runArcEval(request(path.join(fixture.root, "x1"), { modelDir: other })),
      /its adapters were trained on another model/,
    );
    assert.throws(
      () => runArcEval(request(path.join(fixture.root, "x2"), { selection: { taskIds: ["6150a2bd", "zzz"] } })),
      /challenges\.json: no task zzz/,
    );
    assert.throws(
      () => runArcEval(request(path.join(fixture.root, "x3"), { instances: ["6150a2bd-1"] })),
      /task 6150a2bd has 1 test input\(s\); there is no 6150a2bd-1/,
    );
  });
});
