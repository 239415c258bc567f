/**
 * `seal knowledge continual`: continual self-edits / catastrophic forgetting (reference-implementation.md §4).
 *
 * Per run r (seed `seed + r`): sample K passages; row 0 is the starting model's accuracy on each of them; then for
 * step k = 0..K-1: the *current* model writes ONE implications self-edit for passage k, a fresh LoRA is trained on
 * its sequences (§1.3), the adapted model answers the questions of passages 0..k (row k + 1), and the adapter is
 * merged into the weights, which become the base of step k + 1. Output: a (K+1)×K matrix per run (entries above the
 * diagonal are undefined: `null` here, 0.0 in the reference's `overall_results.json`, which is also written), the
 * plain mean and std over runs, as JSON, a Markdown table and an SVG heatmap (`forgetting.svg`).
 *
 * Resume (`--resume`): records are keyed `run-{r}/base` and `run-{r}/step-{k}`. Each step's trained adapter is
 * saved (PEFT format, F32, exact) under `adapters/run-{r}/step-{k}` BEFORE its record is appended. A resumed run
 * reloads the starting weights and re-merges the saved adapters of run r's finished steps in order; merging is
 * deterministic, so the weights equal those of an uninterrupted run bit for bit and the continued matrix is the same.
 * With a judge, a resumed run first grades the verdicts that failed again (regrade-records.ts), and a run with too
 * many failed verdicts ends with an error after writing its outputs (judge-failures.ts).
 *
 * A step whose training diverges (non-finite loss or gradient) stops the run with a TrainingDivergedError before
 * anything is saved or merged: the chain of merged edits cannot skip one.
 *
 * Differences from the reference, on purpose: seeds are derived from `--seed` and the record key (the reference
 * seeds training from the clock); the std over runs is the population std (ddof 0) of each cell across runs.
 */
import fs from "node:fs";
import path from "node:path";
import { TrainingDivergedError } from "../../engine/divergence.js";
import { generate } from "../../engine/generate.js";
import { mergeAdapter } from "../../engine/lora.js";
import type { LoraAdapter } from "../../engine/lora-types.js";
import { Model } from "../../engine/model.js";
import { Rng } from "../../engine/random.js";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { baseModelFingerprint } from "../../io/base-fingerprint.js";
import { writeJsonFile } from "../../io/json-file.js";
import { loadModel } from "../../io/model-files.js";
import { loadAdapter, saveAdapter } from "../../io/peft.js";
import { checkTokenizerFitsModel, loadTokenizer, type TextTokenizer } from "../../io/tokenizer.js";
import { fingerprintFile, fingerprintModelFolder } from "../../seal/fingerprint.js";
import { heatmapSvg } from "../../seal/plots.js";
import { createProgress, type ProgressStream } from "../../seal/progress.js";
import { openRun, writeSummary } from "../../seal/run-dir.js";
import { mean, populationStd } from "../../seal/stats.js";
import {
  type AnswerGrade,
  type AnswerJudge,
  accuracyOf,
  countJudgeVerdicts,
  gradeAnswers,
  judgeItemOf,
  judgeOf,
} from "./answer-grading.js";
import { type Passage, readPassagesAnyLayout } from "./data.js";
import { innerLoopSeed } from "./evaluation-records.js";
import { answerPrompts, type InnerLoopSettings, runInnerLoop } from "./inner-loop.js";
import {
  defaultInnerLoopConfig,
  type GraderConfig,
  type InnerLoopConfig,
  innerLoopSettingsOf,
} from "./inner-loop-config.js";
import { checkJudgeFailures, describeVerdictCounts, type VerdictCounts } from "./judge-failures.js";
import type { JudgeSettings } from "./judge-session.js";
import { buildSelfEditPrompt, closedBookQaPrompt } from "./prompts.js";
import { type GradedRecordView, regradeOnResume } from "./regrade-records.js";
import { buildTrainSequences, pythonStrip } from "./sequences.js";

export const CONTINUAL_COMMAND = "knowledge continual";
export const CONTINUAL_RECORDS = "records";
export const CONTINUAL_SUMMARY_FORMAT = "seal-knowledge-continual/1";
export const FORGETTING_SVG = "forgetting.svg";
export const REFERENCE_RESULTS_FILE = "overall_results.json";

export interface ContinualConfig extends InnerLoopConfig {
  runs: number;
  /** K: passages (= edits) per run. */
  sequenceLength: number;
  /** Self-edit sampling (reference: implications prompt, T 1.0, top-p 0.95, 8192 tokens). */
  temperature: number;
  topP: number;
  maxTokens: number;
}

export function defaultContinualConfig(overrides: Partial<ContinualConfig> = {}): ContinualConfig {
  return {
    runs: 8,
    sequenceLength: 8,
    ...defaultInnerLoopConfig(),
    seed: 42,
    temperature: 1,
    topP: 0.95,
    maxTokens: 8192,
    ...overrides,
  };
}

/** The K passage indices of run r: a seeded partial Fisher–Yates shuffle of the data file's indices. */
export function samplePassages(count: number, k: number, seed: number): number[] {
  if (k > count) throw new Error(`--sequence-length ${k} is more than the ${count} passages in the data file`);
  const rng = new Rng(seed);
  const indices = Array.from({ length: count }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(count - i);
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  return indices.slice(0, k);
}

export const baseKey = (run: number): string => `run-${run}/base`;
export const stepKey = (run: number, step: number): string => `run-${run}/step-${step}`;
export const adapterDir = (runDir: string, run: number, step: number): string =>
  path.join(runDir, "adapters", `run-${run}`, `step-${step}`);

/** Per-passage results of one evaluation (one matrix row). */
export interface PassageEvaluation {
  /** Data-file index of the passage. */
  passage: number;
  accuracy: number | null;
  answers: string[];
  grades: AnswerGrade[];
}

export interface ContinualRecord {
  key: string;
  run: number;
  /** -1 for row 0 (the starting model). */
  step: number;
  passages: number[];
  selfEdit?: string;
  sequences?: string[];
  seed?: number;
  training?: { steps: number; stepLosses: number[]; firstEpochLoss: number; lastEpochLoss: number };
  /** Evaluations of passages 0..step (all K for row 0). */
  evaluations: PassageEvaluation[];
  seconds: number;
}

/** A (K+1)×K matrix; null above the diagonal (row i ≥ 1 defines columns 0..i-1). */
export type ContinualMatrix = (number | null)[][];

/** Whether cell (row, column) is defined in a (K+1)×K continual matrix. */
export function isDefinedCell(row: number, column: number): boolean {
  return row === 0 || column < row;
}

/** Mean and std over runs per defined cell (plain mean; population std), null elsewhere. */
export function aggregateMatrices(matrices: readonly ContinualMatrix[]): {
  mean: ContinualMatrix;
  std: ContinualMatrix;
} {
  if (matrices.length === 0) return { mean: [], std: [] };
  const shape = matrices[0];
  const cell = (f: (xs: number[]) => number) =>
    shape.map((row, r) =>
      row.map((_, c) => {
        const xs = matrices.map((m) => m[r][c]).filter((x): x is number => x !== null && Number.isFinite(x));
        return isDefinedCell(r, c) && xs.length > 0 ? f(xs) : null;
      }),
    );
  return { mean: cell(mean), std: cell(populationStd) };
}

/** The reference's representation: 0.0 above the diagonal, values rounded to 4 decimals. */
export function toReferenceMatrix(matrix: ContinualMatrix): number[][] {
  return matrix.map((row) => row.map((v) => (v === null ? 0 : Math.round(v * 10_000) / 10_000)));
}

/** Reads a reference-format matrix: cells above the diagonal (stored as 0.0) become null. */
export function fromReferenceMatrix(matrix: readonly (readonly number[])[]): ContinualMatrix {
  return matrix.map((row, r) => row.map((v, c) => (isDefinedCell(r, c) ? v : null)));
}

export function matrixMarkdown(matrix: ContinualMatrix, std?: ContinualMatrix): string {
  const k = matrix[0]?.length ?? 0;
  const lines = [
    `| after edit | ${Array.from({ length: k }, (_, c) => `p${c}`).join(" | ")} |`,
    `|---|${Array.from({ length: k }, () => "---").join("|")}|`,
  ];
  matrix.forEach((row, r) => {
    const cells = row.map((v, c) => {
      if (v === null) return "";
      const s = std?.[r]?.[c];
      return s === null || s === undefined ? v.toFixed(3) : `${v.toFixed(3)} ± ${s.toFixed(3)}`;
    });
    lines.push(`| ${r === 0 ? "base" : r} | ${cells.join(" | ")} |`);
  });
  return lines.join("\n");
}

export function forgettingHeatmap(matrix: ContinualMatrix, title: string): string {
  const k = matrix[0]?.length ?? 0;
  return heatmapSvg({
    title,
    rowLabels: matrix.map((_, r) => (r === 0 ? "base" : `edit ${r}`)),
    columnLabels: Array.from({ length: k }, (_, c) => `p${c}`),
    values: matrix,
    range: [0, 1],
    rowAxisLabel: "after edit",
    columnAxisLabel: "accuracy on passage",
  });
}

/** The matrix of one run from its records (missing rows filled with nulls). */
export function runMatrix(records: ReadonlyMap<string, ContinualRecord>, run: number, k: number): ContinualMatrix {
  const matrix: ContinualMatrix = Array.from({ length: k + 1 }, () => new Array<number | null>(k).fill(null));
  const base = records.get(baseKey(run));
  base?.evaluations.forEach((e, c) => {
    matrix[0][c] = e.accuracy;
  });
  for (let step = 0; step < k; step++) {
    records.get(stepKey(run, step))?.evaluations.forEach((e, c) => {
      matrix[step + 1][c] = e.accuracy;
    });
  }
  return matrix;
}

export interface ContinualSummary {
  format: string;
  command: string;
  model: string;
  data: string;
  runs: number;
  sequenceLength: number;
  grader: GraderConfig;
  passages: number[][];
  matrices: ContinualMatrix[];
  mean: ContinualMatrix;
  std: ContinualMatrix;
  /** Views of the mean matrix (as reference §4 reports). */
  base: (number | null)[];
  justEdited: (number | null)[];
  firstPassageAfterEdits: (number | null)[];
  finalRow: (number | null)[];
  /** Judge verdicts asked for and failed (failed ones left out of the accuracies); null without a judge. */
  judgeVerdicts: VerdictCounts | null;
}

/** The judge-graded slots of a continual record (questions from the data file), and its accuracies from them. */
function continualRecordView(data: readonly Passage[]): GradedRecordView<ContinualRecord> {
  return {
    slotsOf: (record) =>
      record.evaluations.flatMap((evaluation) => {
        const passage = data[evaluation.passage];
        return passage.questions.map((q, i) => ({
          item: judgeItemOf(passage.title, q.question, q.answer, evaluation.answers[i]),
          grade: evaluation.grades[i],
        }));
      }),
    refresh: (record) => {
      for (const evaluation of record.evaluations) evaluation.accuracy = accuracyOf(evaluation.grades);
    },
  };
}

export interface ContinualRequest {
  modelDir: string;
  dataPath: string;
  outDir: string;
  resume: boolean;
  config: ContinualConfig;
  tokenizerDir?: string;
  judgeApiKey?: string;
  judge?: AnswerJudge;
  /** Time limit, attempts and failure budget of the judge (not part of the config). */
  judgeSettings?: JudgeSettings;
  progressStream?: ProgressStream;
  log?: (line: string) => void;
  /** Test hook: called after each appended record; throwing from it simulates a crash. */
  afterRecord?: (key: string) => void;
}

function checkConfig(config: ContinualConfig): void {
  const positive: [string, number][] = [
    ["runs", config.runs],
    ["sequence-length", config.sequenceLength],
    ["epochs", config.train.epochs],
    ["batch-size", config.train.batchSize],
    ["max-tokens", config.maxTokens],
    ["max-answer-tokens", config.maxAnswerTokens],
    ["rank", config.lora.rank],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  }
}

interface Engine {
  model: Model;
  tokenizer: TextTokenizer;
  stopTokenIds: number[];
}

/** Runs (or resumes) the experiment; writes records, adapters, summary, `forgetting.svg`, `overall_results.json`. */
export async function runContinual(request: ContinualRequest): Promise<ContinualSummary> {
  const { config } = request;
  const log = request.log ?? (() => {});
  checkConfig(config);
  const data = readPassagesAnyLayout(request.dataPath);
  data.forEach((p, i) => {
    if (p.questions.length === 0) throw new Error(`${request.dataPath}: record ${i}: field "questions": no questions`);
  });
  const runPassages = Array.from({ length: config.runs }, (_, r) =>
    samplePassages(data.length, config.sequenceLength, config.seed + r),
  );
  const judge = judgeOf(config.grader, request);
  const modelFingerprint = fingerprintModelFolder(request.modelDir);
  const dataFingerprint = fingerprintFile(request.dataPath);
  const tokenizerSource = request.tokenizerDir ?? request.modelDir;
  const tokenizer = loadTokenizer(tokenizerSource);
  const run = openRun(
    request.outDir,
    {
      command: CONTINUAL_COMMAND,
      config,
      fingerprints: {
        model: { ...modelFingerprint, path: path.resolve(request.modelDir) },
        data: { sha256: dataFingerprint.sha256, size: dataFingerprint.size, path: path.resolve(request.dataPath) },
      },
    },
    { resume: request.resume },
  );
  try {
    const records = run.openRecords<ContinualRecord>(CONTINUAL_RECORDS);
    try {
      const perRun = config.sequenceLength + 1;
      const total = config.runs * perRun;
      const done = [...records.keys()].length;
      if (run.resumed) log(`resuming ${run.dir}: ${done} of ${total} matrix rows done`);
      if (run.resumed && judge !== null) await regradeOnResume(records, judge, continualRecordView(data), log);
      const progress = createProgress({ total, done, name: "rows", stream: request.progressStream });
      const settings = innerLoopSettingsOf(config);
      for (let r = 0; r < config.runs; r++) {
        const keys = [baseKey(r), ...Array.from({ length: config.sequenceLength }, (_, k) => stepKey(r, k))];
        if (keys.every((key) => records.has(key))) continue;
        // Fresh starting weights for every run, then the finished steps' adapters re-merged in order.
        const loaded = loadModel(request.modelDir);
        checkTokenizerFitsModel(tokenizer, loaded.config, tokenizerSource);
        const engine: Engine = {
          model: new Model(loaded.config, loaded.weights),
          tokenizer,
          stopTokenIds: [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])],
        };
        const passages = runPassages[r].map((i) => ({ index: i, passage: data[i] }));
        const evaluateOn = async (upTo: number): Promise<PassageEvaluation[]> => {
          // every passage's questions in one decode batch (full batches instead of a passage's few questions)
          const evaluated = passages.slice(0, upTo);
          const prompts = evaluated.map(({ passage }) =>
            passage.questions.map((q) => closedBookQaPrompt(passage.title, q.question)),
          );
          const answers = answerPrompts(engine.model, tokenizer, prompts.flat(), settings, engine.stopTokenIds);
          const out: PassageEvaluation[] = [];
          let next = 0;
          for (const [i, { index, passage }] of evaluated.entries()) {
            const mine = answers.slice(next, next + prompts[i].length);
            next += prompts[i].length;
            const grades = await gradeAnswers(passage, mine, judge);
            out.push({ passage: index, accuracy: accuracyOf(grades), answers: mine, grades });
          }
          return out;
        };
        if (!records.has(baseKey(r))) {
          const started = performance.now();
          engine.model.adapter = null;
          const evaluations = await evaluateOn(passages.length);
          records.appendRecord(baseKey(r), {
            key: baseKey(r),
            run: r,
            step: -1,
            passages: runPassages[r],
            evaluations,
            seconds: (performance.now() - started) / 1000,
          });
          judge?.throwIfStopped();
          progress.tick(1, baseKey(r));
          request.afterRecord?.(baseKey(r));
        }
        for (let step = 0; step < config.sequenceLength; step++) {
          const key = stepKey(r, step);
          const dir = adapterDir(run.dir, r, step);
          if (records.has(key)) {
            if (!fs.existsSync(dir)) throw new Error(`${key} is recorded but its adapter ${dir} is missing`);
            mergeAdapter(loaded.config, loaded.weights, loadAdapter(dir, loaded.config, { base: loaded.weights, log }));
            continue;
          }
          progress.setLabel(key);
          const started = performance.now();
          const record = await continualStep(engine, passages[step].passage, key, config, settings).catch((error) => {
            // Every later step builds on this edit's merged weights, so a diverged edit cannot be skipped.
            if (!(error instanceof TrainingDivergedError)) throw error;
            throw error.withHint(`nothing was saved or merged; lower --lr or --alpha`, `${CONTINUAL_COMMAND} ${key}`);
          });
          // recorded against the weights it was trained on: the base with the earlier steps merged
          saveAdapter(dir, record.adapter, {
            baseModel: path.resolve(request.modelDir),
            baseFingerprint: baseModelFingerprint(loaded.config, loaded.weights),
          });
          engine.model.adapter = record.adapter;
          const evaluations = await evaluateOn(step + 1);
          engine.model.adapter = null;
          records.appendRecord(key, {
            key,
            run: r,
            step,
            passages: runPassages[r],
            selfEdit: record.selfEdit,
            sequences: record.sequences,
            seed: record.seed,
            training: record.training,
            evaluations,
            seconds: (performance.now() - started) / 1000,
          });
          // The saved (F32) adapter is merged, exactly what a resume re-merges.
          mergeAdapter(loaded.config, loaded.weights, loadAdapter(dir, loaded.config, { base: loaded.weights, log }));
          judge?.throwIfStopped();
          progress.tick(1, key);
          request.afterRecord?.(key);
        }
      }
      progress.finish();
      const map = new Map<string, ContinualRecord>();
      for (const key of records.keys()) map.set(key, records.get(key) as ContinualRecord);
      const summary = summarizeContinual(map, runPassages, config, request);
      writeContinualOutputs(run.dir, summary);
      if (summary.judgeVerdicts !== null) checkJudgeFailures(summary.judgeVerdicts, request.judgeSettings?.maxFailures);
      return summary;
    } finally {
      records.close();
    }
  } finally {
    run.release();
  }
}

async function continualStep(
  engine: Engine,
  passage: Passage,
  key: string,
  config: ContinualConfig,
  settings: InnerLoopSettings,
): Promise<{
  selfEdit: string;
  sequences: string[];
  seed: number;
  adapter: LoraAdapter;
  training: NonNullable<ContinualRecord["training"]>;
}> {
  const { model, tokenizer, stopTokenIds } = engine;
  const seed = innerLoopSeed(config.seed, key);
  model.adapter = null;
  const prompt = buildSelfEditPrompt("implications", passage.title, passage.context);
  const [generation] = generate(model, [tokenizer.encode(prompt, { addSpecialTokens: true })], {
    temperature: config.temperature,
    topP: config.topP,
    topK: 0,
    maxNewTokens: config.maxTokens,
    n: 1,
    beyondContext: "stop", // as vLLM, the reference's engine, ends a sequence at max_model_len
    stopTokenIds,
    stopStrings: [],
    seed,
    maxBatch: 1,
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
  });
  const selfEdit = pythonStrip(generation.text ?? "");
  const sequences = buildTrainSequences(selfEdit, passage.context, passage.title, {
    splitNewlines: config.splitNewlines,
  });
  const stepLosses: number[] = [];
  const result = runInnerLoop(model, tokenizer, sequences, [], settings, stopTokenIds, seed, (s) =>
    stepLosses.push(s.loss),
  );
  return {
    selfEdit,
    sequences,
    seed,
    adapter: result.adapter,
    training: {
      steps: stepLosses.length,
      stepLosses,
      firstEpochLoss: result.firstEpochLoss,
      lastEpochLoss: result.lastEpochLoss,
    },
  };
}

export function summarizeContinual(
  records: ReadonlyMap<string, ContinualRecord>,
  runPassages: number[][],
  config: ContinualConfig,
  request: Pick<ContinualRequest, "modelDir" | "dataPath">,
): ContinualSummary {
  const k = config.sequenceLength;
  const matrices = runPassages.map((_, r) => runMatrix(records, r, k));
  const { mean: m, std } = aggregateMatrices(matrices);
  return {
    format: CONTINUAL_SUMMARY_FORMAT,
    command: CONTINUAL_COMMAND,
    model: path.resolve(request.modelDir),
    data: path.resolve(request.dataPath),
    runs: config.runs,
    sequenceLength: k,
    grader: config.grader,
    passages: runPassages,
    matrices,
    mean: m,
    std,
    base: [...m[0]],
    justEdited: Array.from({ length: k }, (_, i) => m[i + 1][i]),
    firstPassageAfterEdits: Array.from({ length: k }, (_, i) => m[i + 1][0]),
    finalRow: [...m[k]],
    judgeVerdicts:
      config.grader.kind === "judge"
        ? countJudgeVerdicts([...records.values()].flatMap((record) => record.evaluations.flatMap((e) => e.grades)))
        : null,
  };
}

export function continualMarkdown(summary: ContinualSummary): string {
  const lines = [
    "# seal knowledge continual",
    "",
    `Model: \`${summary.model}\`; data: \`${summary.data}\`; ${summary.runs} run(s) × ${summary.sequenceLength} ` +
      `sequential edits; grader: ${summary.grader.kind}.`,
    "",
    "Accuracy on passage j (columns) after i edits (rows; row 0 = the starting model), mean ± std over runs " +
      "(plain mean, population std). Empty cells are undefined (passage not yet edited).",
    "",
    matrixMarkdown(summary.mean, summary.std),
    "",
    ...(summary.judgeVerdicts === null
      ? []
      : [`${describeVerdictCounts(summary.judgeVerdicts)}; left out of the accuracies.`, ""]),
    `![forgetting heatmap](${FORGETTING_SVG})`,
    "",
  ];
  summary.matrices.forEach((matrix, r) => {
    lines.push(`## Run ${r} (passages ${summary.passages[r].join(", ")})`, "", matrixMarkdown(matrix), "");
  });
  return lines.join("\n");
}

function writeContinualOutputs(dir: string, summary: ContinualSummary): void {
  writeFileAtomic(
    path.join(dir, FORGETTING_SVG),
    forgettingHeatmap(summary.mean, `Continual self-edits: mean accuracy over ${summary.runs} run(s)`),
  );
  writeJsonFile(path.join(dir, REFERENCE_RESULTS_FILE), {
    mean_over_sequences: toReferenceMatrix(summary.mean),
    std_over_sequences: toReferenceMatrix(summary.std),
    n_sequences: summary.runs,
    n_datapoints: summary.sequenceLength,
    dataset: summary.data,
    base_model: summary.model,
  });
  writeSummary(dir, { markdown: continualMarkdown(summary), json: summary });
}
