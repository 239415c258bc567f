import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import type { ArcEvalRecord } from "../../../src/domains/arc/eval-records.js";
import { loadArcEngine } from "../../../src/domains/arc/run-common.js";
import { runArcEval } from "../../../src/domains/arc/run-eval.js";
import { type ArcTttRequest, runArcTtt } from "../../../src/domains/arc/run-ttt.js";
import type { ArcTttRecord } from "../../../src/domains/arc/ttt-records.js";
import { PROJECTIONS } from "../../../src/engine/config.js";
import { createLoraAdapter, type LoraAdapter } from "../../../src/engine/lora.js";
import { Rng } from "../../../src/engine/random.js";
import { loadAdapter } from "../../../src/io/peft.js";
import {
  ALL_TOKENS_CONFIG,
  arcDataMissing,
  createTinyLlama,
  INVALID_CONFIG,
  quickPredictSettings,
  quickTttSettings,
  readRecords,
  SILENT,
  config as selfEditConfig,
  summaryWithoutTiming,
  TRAINING_CONFIG,
  writeArcFixture,
  writeSelfEditFile,
} from "./run-fixtures.js";

const missing = arcDataMissing();

/** Every A or B value, layer by layer in PROJECTIONS order (whatever order the adapter was built or read in). */
function values(adapter: LoraAdapter, matrix: "a" | "b"): number[] {
  return adapter.layers.flatMap((layer) => PROJECTIONS.flatMap((p) => (layer[p] ? [...layer[p][matrix]] : [])));
}
const allA = (adapter: LoraAdapter) => values(adapter, "a");
const allB = (adapter: LoraAdapter) => values(adapter, "b");

describe("arc ttt run", { skip: missing ?? false }, () => {
  if (missing) return;
  const fixture = writeArcFixture("seal-arc-ttt-");
  after(() => fs.rmSync(fixture.root, { recursive: true, force: true }));
  const modelDir = createTinyLlama(fixture.root);
  const engine = loadArcEngine(modelDir, { needsChatTemplate: true });
  const { config } = engine.loaded;
  const selfEdits = path.join(fixture.root, "self_edits.json");
  // 6150a2bd: trained, zero-effect, trained on all tokens; 5582e5ca: one trained; 44f52bb0: none (not in the file)
  writeSelfEditFile(selfEdits, {
    "6150a2bd": [TRAINING_CONFIG, INVALID_CONFIG, ALL_TOKENS_CONFIG],
    "5582e5ca": [TRAINING_CONFIG],
  });
  const request = (outDir: string, extra: Partial<ArcTttRequest> = {}): ArcTttRequest => ({
    modelDir,
    challengesPath: fixture.challenges,
    outDir,
    resume: false,
    selection: {},
    source: { kind: "self-edits", path: selfEdits },
    settings: quickTttSettings(),
    engine,
    progressStream: SILENT,
    ...extra,
  });
  const full = path.join(fixture.root, "full");
  const summary = runArcTtt(request(full));
  const records = readRecords<ArcTttRecord>(full);

  it("trains one adapter per (task, self-edit), saved in PEFT format under adapters/{task}/{i}", () => {
    assert.deepEqual(
      records.map((r) => r.key),
      ["task-6150a2bd/edit-0", "task-6150a2bd/edit-1", "task-6150a2bd/edit-2", "task-5582e5ca/edit-0"],
    );
    assert.deepEqual(
      records.map((r) => r.outcome.status),
      ["trained", "zero-effect", "trained", "trained"],
    );
    assert.deepEqual(summary.counts, { trained: 3, zeroEffect: 1, noData: 0, diverged: 0 });
    for (const record of records) {
      assert.equal(record.adapter, path.join("adapters", record.taskId, String(record.edit)));
      assert.ok(fs.existsSync(path.join(full, record.adapter, "adapter_config.json")));
      assert.ok(!fs.existsSync(path.join(full, `${record.adapter}.partial`)));
      assert.equal(record.outcome.examples, 4, "--max-examples caps the TTT data");
    }
    const trained = records[0].outcome;
    assert.equal(trained.steps, 2, "4 examples, batch 2, 1 epoch");
    assert.equal(trained.losses.length, 2);
    assert.ok(trained.losses.every(Number.isFinite));
    assert.equal(records[1].outcome.valid, false);
    assert.match(records[1].outcome.reason ?? "", /data_generation lacks use_size_augmentations/);
    assert.deepEqual(summary.tasksWithoutConfigs, [], "44f52bb0 is not in the file, so not a task of this run");
  });

  it("a zero-effect adapter has B all zero and the run's A initialisation; trained ones differ", () => {
    const adapters = records.map((r) => loadAdapter(path.join(full, r.adapter!), config));
    assert.equal(adapters[0].config.rank, 8);
    assert.deepEqual(adapters[0].config.targets, ["q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"]);
    assert.ok(
      allB(adapters[1]).every((x) => x === 0),
      "invalid config: B stays zero",
    );
    for (const i of [0, 2, 3])
      assert.ok(
        allB(adapters[i]).some((x) => x !== 0),
        `adapter ${i} was trained`,
      );
    assert.notDeepEqual(allB(adapters[0]), allB(adapters[2]), "different strategies train different adapters");
    const settings = quickTttSettings();
    const fresh = createLoraAdapter(config, settings.lora, new Rng(settings.loraSeed));
    assert.deepEqual(allA(adapters[1]), allA(fresh), "the run's one A initialisation (--lora-seed)");
  });

  // exact equality needs the same groups: one inner loop at a time (the default trains all four together)
  const oneAtATime = path.join(fixture.root, "one-at-a-time");
  runArcTtt(request(oneAtATime, { parallelAdapters: 1 }));
  const alone = readRecords<ArcTttRecord>(oneAtATime);

  it("inner loops trained together equal one at a time up to float rounding (losses and adapters within 1e-4)", () => {
    assert.deepEqual(
      alone.map((r) => [r.key, r.outcome.status, r.outcome.steps, r.outcome.trainedTokens]),
      records.map((r) => [r.key, r.outcome.status, r.outcome.steps, r.outcome.trainedTokens]),
    );
    let largest = 0;
    records.forEach((record, i) => {
      record.outcome.losses.forEach((loss, step) => {
        largest = Math.max(largest, Math.abs(loss - alone[i].outcome.losses[step]));
      });
      const together = loadAdapter(path.join(full, record.adapter!), config);
      const single = loadAdapter(path.join(oneAtATime, alone[i].adapter!), config);
      const [a, b] = [allB(together), allB(single)];
      a.forEach((x, j) => {
        largest = Math.max(largest, Math.abs(x - b[j]));
      });
    });
    assert.ok(largest <= 1e-4, `max |Δ| ${largest}`);
  });

  it("a run interrupted after its first inner loop and resumed ends like the uninterrupted run", () => {
    const out = path.join(fixture.root, "resumed");
    assert.throws(
      () =>
        runArcTtt(
          request(out, {
            parallelAdapters: 1,
            afterUnit: () => {
              throw new Error("simulated crash");
            },
          }),
        ),
      /simulated crash/,
    );
    assert.equal(readRecords(out).length, 1);
    runArcTtt(request(out, { resume: true, parallelAdapters: 1 }));
    assert.deepEqual(summaryWithoutTiming(out), summaryWithoutTiming(oneAtATime));
    const resumed = readRecords<ArcTttRecord>(out);
    assert.deepEqual(
      resumed.map((r) => r.outcome.losses),
      alone.map((r) => r.outcome.losses),
    );
    for (const record of alone)
      assert.deepEqual(
        fs.readFileSync(path.join(out, record.adapter!, "adapter_model.safetensors")),
        fs.readFileSync(path.join(oneAtATime, record.adapter!, "adapter_model.safetensors")),
        `${record.key}: the same adapter bytes`,
      );
  });

  it("--tasks names tasks without self-edits; TTT data that is all too long gives no adapter", () => {
    const out = path.join(fixture.root, "no-data");
    const settings = quickTttSettings();
    const result = runArcTtt(
      request(out, {
        selection: { taskIds: ["5582e5ca", "44f52bb0"] },
        settings: { ...settings, data: { ...settings.data, maxTokens: 20 } },
      }),
    );
    assert.deepEqual(result.tasksWithoutConfigs, ["44f52bb0"]);
    const [record] = readRecords<ArcTttRecord>(out);
    assert.equal(record.outcome.status, "no-data");
    assert.equal(record.adapter, null);
    assert.ok(!fs.existsSync(path.join(out, "adapters", "5582e5ca", "0")));
    assert.deepEqual(result.counts, { trained: 0, zeroEffect: 0, noData: 1, diverged: 0 });
  });

  it("a self-edit whose training diverges is recorded as diverged with no adapter; arc eval scores it wrong", () => {
    const out = path.join(fixture.root, "diverged");
    const diverging = selfEditConfig({ basic: true }, "train_using_output_tokens", 1e30, 1);
    const divergingEdits = path.join(fixture.root, "diverging_self_edits.json");
    writeSelfEditFile(divergingEdits, { "5582e5ca": [diverging, TRAINING_CONFIG] });
    const source = { kind: "self-edits" as const, path: divergingEdits };
    const lines: string[] = [];
    const result = runArcTtt(request(out, { source, log: (line) => lines.push(line) }));
    const [diverged, trained] = readRecords<ArcTttRecord>(out);
    assert.equal(diverged.outcome.status, "diverged");
    assert.equal(diverged.adapter, null);
    assert.equal(diverged.outcome.divergence?.step, 1);
    assert.match(diverged.outcome.divergence?.error ?? "", /^training diverged at step 1 of 2 \(epoch 1\)/);
    assert.ok(!fs.existsSync(path.join(out, "adapters", "5582e5ca", "0")), "no adapter of a diverged loop is saved");
    assert.ok(!fs.existsSync(path.join(out, "adapters", "5582e5ca", "0.partial")));
    assert.equal(trained.outcome.status, "trained", "the run goes on after a diverged inner loop");
    assert.deepEqual(result.counts, { trained: 1, zeroEffect: 0, noData: 0, diverged: 1 });
    assert.ok(lines.some((line) => /^task-5582e5ca\/edit-0: training diverged/.test(line)));
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /1 whose training diverged/);

    // --resume finds both units finished: nothing is trained again
    const resumedLines: string[] = [];
    runArcTtt(request(out, { source, resume: true, log: (line) => resumedLines.push(line) }));
    assert.equal(readRecords(out).length, 2);
    assert.ok(resumedLines.some((line) => /2 of 2 inner loops done/.test(line)));
    assert.ok(!resumedLines.some((line) => /training diverged/.test(line)), "not trained again");

    // arc eval: the diverged pair has no adapter, so nothing is predicted and it is scored wrong
    const predicted: (string | null)[] = [];
    const evaluation = runArcEval({
      modelDir,
      challengesPath: fixture.challenges,
      solutionsPath: fixture.solutions,
      outDir: path.join(fixture.root, "diverged-eval"),
      resume: false,
      tttDir: out,
      selection: {},
      predict: quickPredictSettings(),
      predictor: (_instance, pair) => {
        predicted.push(pair.adapter);
        return { attempts: null, answers: [], fallback: false };
      },
      progressStream: SILENT,
    });
    assert.deepEqual(predicted, [path.join(out, "adapters", "5582e5ca", "1")], "only the trained adapter is used");
    const evalRecords = readRecords<ArcEvalRecord>(path.join(fixture.root, "diverged-eval"));
    assert.deepEqual(
      evalRecords.map((r) => [r.key, r.status, r.adapter, r.correct]),
      [
        ["task-5582e5ca/edit-0", "diverged", null, false],
        ["task-5582e5ca/edit-1", "trained", path.join(out, "adapters", "5582e5ca", "1"), false],
      ],
    );
    assert.equal(evaluation.diverged, 1);
    assert.equal(evaluation.withoutAdapter, 1);
  });

  it("a fixed config or a grid gives every task the same configurations", () => {
    const fixed = runArcTtt(
      request(path.join(fixture.root, "fixed"), {
        selection: { taskIds: ["5582e5ca"] },
        source: { kind: "fixed", config: ALL_TOKENS_CONFIG },
      }),
    );
    assert.equal(fixed.units, 1);
    assert.equal(fixed.source, "fixed");
    const gridOut = path.join(fixture.root, "grid");
    const grid = runArcTtt(
      request(gridOut, {
        selection: { taskIds: ["6150a2bd"] },
        source: { kind: "all-configs", configs: [TRAINING_CONFIG, ALL_TOKENS_CONFIG] },
      }),
    );
    assert.equal(grid.units, 2);
    assert.deepEqual(
      readRecords<ArcTttRecord>(gridOut).map((r) => [r.edit, r.config]),
      [
        [0, TRAINING_CONFIG],
        [1, ALL_TOKENS_CONFIG],
      ],
    );
    assert.throws(
      () =>
        runArcTtt(request(path.join(fixture.root, "unchosen"), { source: { kind: "fixed", config: TRAINING_CONFIG } })),
      /choose the tasks/,
    );
  });
});
