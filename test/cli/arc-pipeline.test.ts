/**
 * `seal arc ttt`, `eval` and `rl` end to end on a tiny random Llama model, chained as the reference runs them:
 * self-edits (from a stand-in sampler, in-process: a random model writes no JSON) → TTT adapters → evaluation →
 * behaviour cloning. The random model solves nothing, so `rl` refuses; an evaluation with stand-in predictions
 * that solve two pairs then gives `rl` something to clone.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import type { Grid } from "../../src/domains/arc/grid.js";
import { runArcEval } from "../../src/domains/arc/run-eval.js";
import { runArcSelfEdit } from "../../src/domains/arc/run-self-edit.js";
import { REFERENCE_SELF_EDIT_SAMPLING } from "../../src/domains/arc/self-edit-sampling.js";
import { loadModel } from "../../src/io/model-files.js";
import {
  ARC_TEST_TASKS,
  arcDataMissing,
  createTinyLlama,
  INVALID_CONFIG,
  quickPredictSettings,
  readRecords,
  SILENT,
  TRAINING_CONFIG,
  writeArcFixture,
} from "../domains/arc/run-fixtures.js";
import { sealResult } from "./cli-fixtures.js";
import { assertSameRun, killAndResume, runKilledAt } from "./kill-resume.js";

const missing = arcDataMissing();

function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

describe("seal arc ttt / eval / rl", { skip: missing ?? false }, () => {
  if (missing) return;
  const fixture = writeArcFixture("seal-cli-arc-");
  after(() => fs.rmSync(fixture.root, { recursive: true, force: true }));
  const model = createTinyLlama(fixture.root);
  const at = (name: string) => path.join(fixture.root, name);

  // every task gets a training self-edit (0) and an invalid one (1), with the real prompt
  const replies = [JSON.stringify(TRAINING_CONFIG), JSON.stringify(INVALID_CONFIG)];
  runArcSelfEdit({
    modelDir: model,
    challengesPath: fixture.challenges,
    outDir: at("self-edit"),
    resume: false,
    selection: { taskIds: [...ARC_TEST_TASKS] },
    config: { sampling: { ...REFERENCE_SELF_EDIT_SAMPLING, n: 2 }, batch: 2 },
    sampler: (_prompt, count) => replies.slice(0, count).map((text) => ({ text, tokens: [1] })),
    progressStream: SILENT,
  });
  const selfEdits = at("self-edit/self_edits.json");
  const QUICK_TTT = ["--rank", "8", "--max-examples", "4", "--warmup-steps", "0"];
  const QUICK_EVAL = ["--permute-n", "0", "--max-queries", "3", "--max-new-tokens", "16"];
  const common = ["--model", model, "--challenges", fixture.challenges];
  const evalArgs = ["arc", "eval", ...common, "--solutions", fixture.solutions, ...QUICK_EVAL];

  // one inner loop at a time: the kill/resume test compares adapter bytes, which needs the same groups
  const tttArgs = (out: string) => [
    ...["arc", "ttt", ...common, "--self-edits", selfEdits, "--out", out, ...QUICK_TTT],
    ...["--parallel-adapters", "1"],
  ];
  const ttt = sealResult(tttArgs(at("ttt")));

  it("ttt: one PEFT adapter per (task, self-edit), zero-effect for the invalid ones", () => {
    assert.equal(ttt.status, 0, ttt.stderr);
    assert.match(ttt.stdout, /6 inner loops over 3 tasks: 3 adapters trained, 3 zero-effect, 0 without TTT data/);
    for (const task of ARC_TEST_TASKS)
      for (const edit of ["0", "1"]) {
        const dir = at(`ttt/adapters/${task}/${edit}`);
        assert.ok(fs.existsSync(path.join(dir, "adapter_model.safetensors")), dir);
        const config = readJson(path.join(dir, "adapter_config.json"));
        assert.equal(config.r, 8);
        assert.equal(config.lora_alpha, 16, "the reference's α");
      }
    const run = readJson<{ config: { settings: { batchSize: number; data: { maxTasks: number } } } }>(
      at("ttt/run.json"),
    );
    assert.equal(run.config.settings.batchSize, 2);
    assert.equal(run.config.settings.data.maxTasks, 4);
    assert.match(fs.readFileSync(at("ttt/summary.md"), "utf8"), /\| 44f52bb0 \| 2 \| 1 \| 1 \| 0 \|/);
  });

  it("ttt: refuses two sources, an unknown task, and a resume with other settings", () => {
    const two = sealResult(["arc", "ttt", ...common, "--self-edits", selfEdits, "--all-configs", "--out", at("x")]);
    assert.equal(two.status, 1);
    assert.match(two.stderr, /exactly one of --self-edits FILE, --config JSON and --all-configs/);
    const unknown = sealResult([
      "arc",
      "ttt",
      ...common,
      "--self-edits",
      selfEdits,
      "--tasks",
      "00000000",
      "--out",
      at("y"),
    ]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /challenges\.json: no task 00000000/);
    const resumed = sealResult(["arc", "ttt", ...common, "--self-edits", selfEdits, "--out", at("ttt"), "--resume"]);
    assert.equal(resumed.status, 1);
    assert.match(resumed.stderr, /cannot resume, 3 field\(s\) differ/);
    assert.match(resumed.stderr, /config\.settings\.lora\.rank: run has 8, now 128/);
  });

  it("ttt --config and --all-configs: hand-chosen configurations for the given tasks", () => {
    const fixed = sealResult([
      "arc",
      "ttt",
      ...common,
      "--config",
      JSON.stringify(TRAINING_CONFIG),
      "--tasks",
      "6150a2bd",
      "--out",
      at("fixed"),
      ...QUICK_TTT,
    ]);
    assert.equal(fixed.status, 0, fixed.stderr);
    assert.match(fixed.stdout, /1 inner loops over 1 tasks: 1 adapters trained/);
    const grid = at("grid.json");
    fs.writeFileSync(grid, JSON.stringify([TRAINING_CONFIG, TRAINING_CONFIG, INVALID_CONFIG]));
    const refused = sealResult([
      "arc",
      "ttt",
      ...common,
      "--all-configs",
      grid,
      "--tasks",
      "6150a2bd",
      "--out",
      at("g"),
    ]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /grid\.json: config 2: the config trains nothing: data_generation lacks/);
    const badJson = sealResult(["arc", "ttt", ...common, "--config", "{oops", "--tasks", "6150a2bd", "--out", at("h")]);
    assert.equal(badJson.status, 1);
    assert.match(badJson.stderr, /--config: not valid JSON/);
  });

  it("ttt: kill -9 mid-training, mid-adapter-write, after an adapter's rename and between units; --resume gives the same run", () => {
    killAndResume(at("ttt-killed"), {
      args: tttArgs,
      crashes: ["train-step:ttt", "write:adapter_model.safetensors", "published:0", "record:task-5582e5ca/edit-0"],
    });
    assertSameRun(at("ttt-killed"), at("ttt"));
  });

  const evalTttArgs = (out: string) => [...evalArgs, "--ttt", at("ttt"), "--out", out];
  const evaluated = sealResult(evalTttArgs(at("eval")));

  it("eval: scores every (task, self-edit) pair and writes final_results.json", () => {
    assert.equal(evaluated.status, 0, evaluated.stderr);
    assert.match(evaluated.stdout, /success rate 0\/6 = 0\.0% of \(task, configuration\) pairs/);
    const results = readJson(at("eval/final_results.json"));
    assert.deepEqual(Object.keys(results), ["0", "1"]);
    assert.deepEqual(results["0"], {
      task_id: { "0": "44f52bb0", "1": "5582e5ca", "2": "6150a2bd" },
      correct: { "0": false, "1": false, "2": false },
    });
    const summary = readJson<{ successRate: { pairs: number }; instances: string[] }>(at("eval/summary.json"));
    assert.equal(summary.successRate.pairs, 6);
    assert.deepEqual(summary.instances, ["6150a2bd-0", "5582e5ca-0", "44f52bb0-0", "44f52bb0-1"]);
  });

  it("eval --no-adapter: the in-context baseline on the given tasks", () => {
    const baseline = sealResult([...evalArgs, "--no-adapter", "--tasks", "6150a2bd", "--out", at("baseline")]);
    assert.equal(baseline.status, 0, baseline.stderr);
    assert.match(baseline.stdout, /success rate 0\/1/);
    const both = sealResult([...evalArgs, "--no-adapter", "--ttt", at("ttt"), "--out", at("z")]);
    assert.equal(both.status, 1);
    assert.match(both.stderr, /give --ttt or --no-adapter, not both/);
    const neither = sealResult([...evalArgs, "--out", at("z")]);
    assert.equal(neither.status, 1);
    assert.match(neither.stderr, /give --ttt RUN/);
  });

  it("eval: kill -9 after a pair's prediction, between pairs, between a task's two test inputs and before final_results.json; --resume gives the same run", () => {
    killAndResume(at("eval-killed"), {
      args: evalTttArgs,
      crashes: ["predict", "record:task-5582e5ca/edit-1", "predict", "write:final_results.json"],
    });
    assertSameRun(at("eval-killed"), at("eval"));
  });

  it("rl: refuses when no pair was solved, naming the eval run", () => {
    const result = sealResult([
      "arc",
      "rl",
      "--model",
      model,
      "--self-edits",
      selfEdits,
      "--eval",
      at("eval"),
      "--out",
      at("rl0"),
    ]);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /eval: no \(task, self-edit\) pair was solved \(0 of 6 evaluated\); behaviour cloning has nothing to clone/,
    );
    assert.ok(!fs.existsSync(at("rl0")));
  });

  it("rl: clones the solved self-edits into a merged checkpoint that differs from the input", () => {
    // stand-in predictions: 6150a2bd and 44f52bb0 solved with self-edit 0
    runArcEval({
      modelDir: model,
      challengesPath: fixture.challenges,
      solutionsPath: fixture.solutions,
      outDir: at("eval-solved"),
      resume: false,
      tttDir: at("ttt"),
      selection: {},
      predict: quickPredictSettings(),
      predictor: (instance, pair) => {
        const right = instance.test[0].output as Grid;
        const solved = pair.edit === 0 && pair.taskId !== "5582e5ca";
        return { attempts: solved ? [right, right] : [[[0]], [[0]]], answers: [], fallback: false };
      },
      progressStream: SILENT,
    });
    assert.equal(readRecords<{ correct: boolean }>(at("eval-solved")).filter((r) => r.correct).length, 2);
    const out = at("rl");
    const result = sealResult([
      "arc",
      "rl",
      "--model",
      model,
      "--self-edits",
      selfEdits,
      "--eval",
      at("eval-solved"),
      "--out",
      out,
      "--epochs",
      "2",
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /cloned 2 solved pairs \(of 6\): 2 steps/);
    for (const name of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
      "rl_summary.json",
    ])
      assert.ok(fs.existsSync(path.join(out, name)), name);
    assert.notDeepEqual(
      fs.readFileSync(path.join(out, "model.safetensors")),
      fs.readFileSync(path.join(model, "model.safetensors")),
    );
    const merged = loadModel(out);
    const base = loadModel(model);
    assert.deepEqual(merged.config, base.config);
    assert.ok(
      merged.weights.layers[0].qProj.some((x, i) => x !== base.weights.layers[0].qProj[i]),
      "q_proj merged",
    );
    assert.deepEqual(merged.weights.layers[0].kProj, base.weights.layers[0].kProj, "k_proj is not a target");
    const summary = readJson<{ pairs: unknown; settings: { lr: number; lora: { rank: number } } }>(
      path.join(out, "rl_summary.json"),
    );
    assert.deepEqual(summary.pairs, [
      { taskId: "6150a2bd", edit: 0 },
      { taskId: "44f52bb0", edit: 0 },
    ]);
    assert.equal(summary.settings.lr, 5e-5);
    assert.equal(summary.settings.lora.rank, 16);

    const again = sealResult([
      "arc",
      "rl",
      "--model",
      model,
      "--self-edits",
      selfEdits,
      "--eval",
      at("eval-solved"),
      "--out",
      out,
    ]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /folder is not empty; choose a new folder or pass --force/);
  });

  it("rl: killed mid-SFT, mid-checkpoint write or before rl_summary.json, the same command again gives the same checkpoint", () => {
    const rlArgs = (out: string) => [
      ...["arc", "rl", "--model", model, "--self-edits", selfEdits, "--eval", at("eval-solved")],
      ...["--out", out, "--epochs", "2"],
    ];
    const out = at("rl-killed");
    killAndResume(out, {
      args: rlArgs,
      resumeArgs: rlArgs, // no --resume: the step is redone whole (run-rl.ts)
      crashes: ["train-step:sft", "write:model.safetensors", "write:rl_summary.json"],
      afterKill: () => assert.ok(!fs.existsSync(out), "no checkpoint folder before it is complete"),
    });
    assert.ok(!fs.existsSync(`${out}.partial`));
    assertSameRun(out, at("rl"));
    // killed right after the rename: the folder is already the finished checkpoint
    runKilledAt(rlArgs(at("rl-late")), "published:rl-late");
    assertSameRun(at("rl-late"), at("rl"));
  });

  it("rl: refuses self-edits other than those the eval's TTT run used", () => {
    const other = at("other-self-edits.json");
    fs.writeFileSync(other, `${fs.readFileSync(selfEdits, "utf8")}\n`);
    const result = sealResult([
      "arc",
      "rl",
      "--model",
      model,
      "--self-edits",
      other,
      "--eval",
      at("eval-solved"),
      "--out",
      at("rl2"),
    ]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /not the self-edit file the eval run's TTT run .* trained on/);
  });
});
