/**
 * `seal knowledge evaluate`: SEAL's inner loop over a set of passages (reference-implementation.md §1.3–1.6).
 *
 * For each passage: the base model's closed-book answers are computed (and graded) once; then for each of the first
 * `completions` self-edits × `repeats`: build the training sequences, train a fresh LoRA adapter, answer the
 * passage's questions closed-book with it, grade, and append ONE record keyed `passage-{i}/edit-{j}/repeat-{r}` to
 * the run's `records.jsonl` (i = the record's index in the input file). A resumed run skips finished keys.
 *
 * Baselines: `passages-only` trains on an empty self-edit (the passage alone, the reference's "naive" run) and
 * `no-update` evaluates the base model only (no training; adapted = baseline).
 *
 * Differences from the reference, on purpose:
 * - the baseline is answered and graded once per passage and copied into every record of that passage (the
 *   reference recomputes it per request; greedy answers do not change, only the judge's noise would);
 * - a judge call that still fails after its retries is recorded as failed and left out of every accuracy (with a
 *   count), instead of counting as wrong;
 * - local grading (no judge) uses "the gold answer is contained in the answer" as the headline verdict; SQuAD
 *   exact match and F1 are recorded beside it;
 * - the inner loop's seed is derived from `--seed` and the record's key (the reference seeds from the clock), so a
 *   run is reproducible and a resumed run equals an uninterrupted one.
 */
import path from "node:path";
import { z } from "zod";
import { Model } from "../../engine/model.js";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { loadModel } from "../../io/model-files.js";
import { checkTokenizerFitsModel, loadTokenizer, type TextTokenizer } from "../../io/tokenizer.js";
import { fingerprintFile, fingerprintModelFolder, sha256Hex } from "../../seal/fingerprint.js";
import { histogramSvg, lineChartSvg } from "../../seal/plots.js";
import { createProgress, type ProgressStream } from "../../seal/progress.js";
import type { RecordLog } from "../../seal/records.js";
import { openRun, type Run } from "../../seal/run-dir.js";
import { mean, meanConfidenceInterval } from "../../seal/stats.js";
import { readPassagesAnyLayout, readSelfEditFile } from "./data.js";
import { containsGold, exactMatch, isEmptyPrediction, tokenF1 } from "./grading.js";
import { answerPrompts, runInnerLoop } from "./inner-loop.js";
import {
  defaultInnerLoopConfig,
  type GraderConfig,
  type InnerLoopConfig,
  innerLoopSettingsOf,
  judgeOf,
} from "./inner-loop-config.js";
import type { JudgeItem, JudgeResult, JudgeVerdict } from "./judge.js";
import { closedBookQaPrompt, closedBookQuestion } from "./prompts.js";
import { renderEvaluationMarkdown } from "./report.js";
import { buildTrainSequences, pythonStrip } from "./sequences.js";

export const EVALUATE_COMMAND = "knowledge evaluate";
export const EVALUATION_RECORDS = "records";
export const EVALUATION_SUMMARY_FORMAT = "seal-knowledge-evaluate/1";

/** What is evaluated: self-edits from a file, an empty self-edit (passage only), or the base model alone. */
export type EvaluationMode = "self-edits" | "passages-only" | "no-update";

export type { GraderConfig } from "./inner-loop-config.js";

/** The full resolved configuration of an evaluation (stored in run.json; a resume must match it). */
export interface EvaluationConfig extends InnerLoopConfig {
  mode: EvaluationMode;
  /** Self-edits evaluated per passage: the first `completions` of each record (1 in the baseline modes). */
  completions: number;
  /** Independent inner loops (fresh adapter, own seed) per self-edit. */
  repeats: number;
  /** First record of the input file, and how many records from there. */
  start: number;
  limit: number;
}

/** The reference's settings (§1.4–1.6) for everything the command line does not set. */
export function defaultEvaluationConfig(overrides: Partial<EvaluationConfig> = {}): EvaluationConfig {
  return {
    mode: "self-edits",
    completions: 1,
    repeats: 1,
    start: 0,
    limit: 200,
    ...defaultInnerLoopConfig(),
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Input

/** One selected passage with the self-edits evaluated on it. */
export interface EvaluationPassage {
  /** Index of the record in the input file (the `passage-{i}` of the keys). */
  index: number;
  title: string;
  context: string;
  questions: { question: string; answer: string }[];
  /** The self-edits evaluated, in order (`edit-{j}`): `[""]` in the baseline modes. */
  selfEdits: string[];
}

/**
 * Reads and checks the input file before anything expensive happens. Self-edit mode needs the reference's record
 * format (`completions` and `prompt`); the baseline modes accept plain passage files (or SQuAD v1.1) as well.
 * Errors name the file and the record.
 */
export function readEvaluationPassages(file: string, config: EvaluationConfig): EvaluationPassage[] {
  const records =
    config.mode === "self-edits"
      ? readSelfEditFile(file)
      : readPassagesAnyLayout(file).map((passage) => ({ ...passage, completions: [] as string[] }));
  if (records.length === 0) throw new Error(`${file}: no records`);
  if (config.start >= records.length) {
    throw new Error(`${file}: --start ${config.start} is past the end (the file holds ${records.length} records)`);
  }
  const selected: EvaluationPassage[] = [];
  const end = Math.min(records.length, config.start + config.limit);
  for (let index = config.start; index < end; index++) {
    const record = records[index];
    if (record.questions.length === 0) throw new Error(`${file}: record ${index}: field "questions": no questions`);
    let selfEdits: string[] = [""];
    if (config.mode === "self-edits") {
      if (record.completions.length < config.completions) {
        throw new Error(
          `${file}: record ${index}: field "completions": has ${record.completions.length} self-edit(s), ` +
            `--completions asks for ${config.completions}`,
        );
      }
      selfEdits = record.completions.slice(0, config.completions);
    }
    selected.push({
      index,
      title: record.title,
      context: record.context,
      questions: record.questions.map((q) => ({ question: q.question, answer: q.answer })),
      selfEdits,
    });
  }
  return selected;
}

export function recordKey(passage: number, edit: number, repeat: number): string {
  return `passage-${passage}/edit-${edit}/repeat-${repeat}`;
}

/** The inner loop's seed: a 32-bit number derived from the run's seed and the record's key. */
export function innerLoopSeed(seed: number, key: string): number {
  return Number.parseInt(sha256Hex(`${seed}/${key}`).slice(0, 8), 16);
}

/** Inner loops per passage: self-edits × repeats (one per passage without an update). */
export function innerLoopsPerPassage(config: EvaluationConfig): number {
  return config.mode === "no-update" ? 1 : config.completions * config.repeats;
}

// ---------------------------------------------------------------------------------------------------------------
// Grading

export interface AnswerGrade {
  /** The headline verdict: contains-gold (local grader) or the judge's yes/no; null when the judge call failed. */
  correct: boolean | null;
  exactMatch: number;
  f1: number;
  contains: boolean;
  empty: boolean;
  judge?: { verdict: JudgeVerdict; reply?: string; error?: string; attempts: number };
}

/** What grades answers through a judge (ChatCompletionsJudge, or a stand-in in tests). */
export interface AnswerJudge {
  grade(item: JudgeItem): Promise<JudgeResult>;
}

export function gradeLocally(answer: string, gold: string): AnswerGrade {
  const contains = containsGold(answer, gold);
  return {
    correct: contains,
    exactMatch: exactMatch(answer, gold),
    f1: tokenF1(answer, gold),
    contains,
    empty: isEmptyPrediction(answer),
  };
}

/** Grades a passage's answers in question order (judge calls one at a time, as the reference). */
export async function gradeAnswers(
  passage: Pick<EvaluationPassage, "title" | "questions">,
  answers: readonly string[],
  judge: AnswerJudge | null,
): Promise<AnswerGrade[]> {
  const grades: AnswerGrade[] = [];
  for (let q = 0; q < passage.questions.length; q++) {
    const { question, answer: gold } = passage.questions[q];
    const grade = gradeLocally(answers[q], gold);
    if (judge !== null) {
      const result = await judge.grade({
        question: closedBookQuestion(passage.title, question),
        goldAnswer: gold,
        prediction: answers[q],
      });
      grade.correct = result.verdict === "failed" ? null : result.verdict === "correct";
      grade.judge = { verdict: result.verdict, attempts: result.attempts };
      if (result.reply !== undefined) grade.judge.reply = result.reply;
      if (result.error !== undefined) grade.judge.error = result.error;
    }
    grades.push(grade);
  }
  return grades;
}

/** Accuracy over the graded verdicts (failed ones left out); null when none was graded. */
export function accuracyOf(grades: readonly Pick<AnswerGrade, "correct">[]): number | null {
  const graded = grades.filter((grade) => grade.correct !== null);
  return graded.length === 0 ? null : graded.filter((grade) => grade.correct).length / graded.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Records

export interface QuestionResult {
  question: string;
  gold: string;
  baselineAnswer: string;
  baselineGrade: AnswerGrade;
  adaptedAnswer: string;
  adaptedGrade: AnswerGrade;
}

/** One line of records.jsonl: one inner loop. */
export interface EvaluationRecord {
  key: string;
  passage: number;
  edit: number;
  repeat: number;
  title: string;
  /** The inner loop's seed (derived from --seed and the key). */
  seed: number;
  /** False in no-update mode: nothing was trained, adapted answers are the baseline's. */
  update: boolean;
  /** True when the self-edit is empty after strip(): training on the passage alone. */
  passageOnly: boolean;
  selfEdit: string;
  sequences: string[];
  /** Tokens of each training sequence. */
  sequenceTokens: number[];
  questions: QuestionResult[];
  baselineAccuracy: number | null;
  adaptedAccuracy: number | null;
  /** adapted − baseline (null when either is null). */
  gain: number | null;
  training: {
    steps: number;
    stepLosses: number[];
    firstEpochLoss: number;
    lastEpochLoss: number;
    /** Tokens trained over all epochs. */
    trainTokens: number;
  } | null;
  timings: {
    /** Seconds spent answering and grading the baseline for this record (0 when reused). */
    baselineSeconds: number;
    trainSeconds: number;
    answerSeconds: number;
    gradeSeconds: number;
    totalSeconds: number;
  };
}

const gradeSchema = z.looseObject({
  correct: z.boolean().nullable(),
  exactMatch: z.number(),
  f1: z.number(),
  contains: z.boolean(),
  empty: z.boolean(),
});
const recordSchema = z.looseObject({
  key: z.string(),
  passage: z.number().int().nonnegative(),
  edit: z.number().int().nonnegative(),
  repeat: z.number().int().nonnegative(),
  title: z.string(),
  update: z.boolean(),
  passageOnly: z.boolean(),
  selfEdit: z.string(),
  sequences: z.array(z.string()),
  questions: z.array(
    z.looseObject({
      question: z.string(),
      gold: z.string(),
      baselineAnswer: z.string(),
      baselineGrade: gradeSchema,
      adaptedAnswer: z.string(),
      adaptedGrade: gradeSchema,
    }),
  ),
  baselineAccuracy: z.number().nullable(),
  adaptedAccuracy: z.number().nullable(),
});

function validateRecord(value: unknown): EvaluationRecord {
  const result = recordSchema.safeParse(value);
  if (!result.success) {
    throw new Error(result.error.issues.map((issue) => `field "${issue.path.join(".")}": ${issue.message}`).join("; "));
  }
  return result.data as unknown as EvaluationRecord;
}

// ---------------------------------------------------------------------------------------------------------------
// Aggregation

/** A mean with its two-sided 95% t interval (bounds null with fewer than two values, mean null with none). */
export interface IntervalSummary {
  mean: number | null;
  lower: number | null;
  upper: number | null;
  halfWidth: number | null;
  n: number;
}

export function intervalOf(values: readonly number[]): IntervalSummary {
  if (values.length === 0) return { mean: null, lower: null, upper: null, halfWidth: null, n: 0 };
  if (values.length === 1) return { mean: values[0], lower: null, upper: null, halfWidth: null, n: 1 };
  const ci = meanConfidenceInterval(values, { level: 0.95, method: "t" });
  return { mean: ci.mean, lower: ci.lower, upper: ci.upper, halfWidth: ci.halfWidth, n: ci.n };
}

export interface AccuracyIntervals {
  baseline: IntervalSummary;
  adapted: IntervalSummary;
  gain: IntervalSummary;
}

export interface PassageSummary {
  passage: number;
  title: string;
  questions: number;
  innerLoops: number;
  /** Accuracy of the base model on the passage's questions. */
  baseline: number | null;
  /** Mean over self-edits of (mean over repeats of the inner loop's accuracy). */
  adapted: number | null;
  gain: number | null;
}

export interface EvaluationSummary {
  format: typeof EVALUATION_SUMMARY_FORMAT;
  mode: EvaluationMode;
  grader: GraderConfig & { headline: string };
  config: EvaluationConfig;
  input: string;
  model: string;
  passages: number;
  passagesEvaluated: number;
  questions: number;
  innerLoops: { expected: number; done: number };
  complete: boolean;
  /** Mean over passages of each passage's accuracy (the reference's and the paper's headline). */
  macro: AccuracyIntervals;
  /** Mean over questions (each question's adapted value is its mean over self-edits × repeats). */
  micro: AccuracyIntervals;
  /** Micro means of the local metrics, whatever the headline grader. */
  localMetrics: {
    baseline: { exactMatch: number | null; f1: number | null; contains: number | null };
    adapted: { exactMatch: number | null; f1: number | null; contains: number | null };
  };
  /** Judge calls that failed: left out of every accuracy. */
  failedVerdicts: { baseline: number; adapted: number };
  /** Inner loops whose self-edit was empty (trained on the passage alone). */
  passageOnlyInnerLoops: number;
  training: {
    meanFirstEpochLoss: number;
    meanLastEpochLoss: number;
    trainTokens: number;
    /** Mean training loss of each epoch over all inner loops (each loop's step losses split into equal epochs). */
    meanEpochLosses: number[];
  } | null;
  /** The SVG plots written beside the summary (file names relative to the run folder). */
  plots: string[];
  perPassage: PassageSummary[];
  /** Wall-clock figures (differ between runs; everything else is determined by the records). */
  timing: {
    innerLoopSeconds: number;
    baselineSeconds: number;
    trainSeconds: number;
    answerSeconds: number;
    gradeSeconds: number;
    innerLoopsPerHour: number | null;
  };
}

/** Plot files of an evaluation run. */
export const GAINS_SVG = "gains.svg";
export const LOSS_SVG = "loss.svg";

/** Mean step loss of each of `epochs` equal parts of `stepLosses` (as the inner loop splits them). */
export function epochLossesOf(stepLosses: readonly number[], epochs: number): number[] {
  const count = Math.max(1, Math.min(epochs, stepLosses.length));
  const out: number[] = [];
  for (let epoch = 0; epoch < count; epoch++) {
    const part = stepLosses.slice(
      Math.floor((epoch * stepLosses.length) / count),
      Math.floor(((epoch + 1) * stepLosses.length) / count),
    );
    if (part.length > 0) out.push(mean(part));
  }
  return out;
}

/** Writes the run's plots (`summary.plots`) atomically into `dir`. */
export function writeEvaluationPlots(dir: string, summary: EvaluationSummary): void {
  const gains = summary.perPassage.map((p) => p.gain).filter((g): g is number => g !== null);
  writeFileAtomic(
    path.join(dir, GAINS_SVG),
    histogramSvg({
      title: "Per-passage gain (adapted − baseline accuracy)",
      xLabel: "gain",
      values: gains,
      bins: GAIN_BINS,
      range: [-1, 1],
    }),
  );
  if (summary.training !== null) {
    writeFileAtomic(
      path.join(dir, LOSS_SVG),
      lineChartSvg({
        title: "Mean training loss per epoch (all inner loops)",
        xLabel: "epoch",
        yLabel: "loss (nats/token)",
        series: [
          {
            label: "mean loss",
            points: summary.training.meanEpochLosses.map((l, i) => [i + 1, l] as [number, number]),
          },
        ],
      }),
    );
  }
}

/** Bins of the gain histogram over [−1, 1]. */
export const GAIN_BINS = 20;

const meanOrNull = (values: readonly number[]): number | null => (values.length === 0 ? null : mean(values));

export function headlineDescription(grader: GraderConfig): string {
  return grader.kind === "local"
    ? "local grading: correct = the normalized gold answer is contained in the normalized answer (contains-gold); SQuAD exact match and F1 are reported beside it"
    : `LLM judge ${grader.model} at ${grader.baseUrl}: the reference's yes/no verdict; failed calls are left out of the accuracies`;
}

/**
 * Aggregates the records of the selected passages: per passage baseline/adapted/gain, macro over passages and
 * micro over questions, each with a 95% t interval. Records of other passages are ignored.
 */
export function summarizeEvaluation(
  passages: readonly Pick<EvaluationPassage, "index" | "title" | "questions">[],
  records: readonly EvaluationRecord[],
  config: EvaluationConfig,
  info: { input: string; model: string } = { input: "", model: "" },
): EvaluationSummary {
  const byPassage = new Map<number, EvaluationRecord[]>();
  for (const record of records) {
    const list = byPassage.get(record.passage) ?? [];
    list.push(record);
    byPassage.set(record.passage, list);
  }
  const perPassage: PassageSummary[] = [];
  const macroBaseline: number[] = [];
  const macroAdapted: number[] = [];
  const macroGain: number[] = [];
  const microBaseline: number[] = [];
  const microAdapted: number[] = [];
  const microGain: number[] = [];
  const local = {
    baseline: { exactMatch: [] as number[], f1: [] as number[], contains: [] as number[] },
    adapted: { exactMatch: [] as number[], f1: [] as number[], contains: [] as number[] },
  };
  const failedVerdicts = { baseline: 0, adapted: 0 };
  let done = 0;
  let passagesEvaluated = 0;
  let questionCount = 0;
  let passageOnlyInnerLoops = 0;
  const firstLosses: number[] = [];
  const lastLosses: number[] = [];
  const epochLosses: number[][] = [];
  let trainTokens = 0;
  const timing = { innerLoopSeconds: 0, baselineSeconds: 0, trainSeconds: 0, answerSeconds: 0, gradeSeconds: 0 };

  for (const passage of passages) {
    const list = (byPassage.get(passage.index) ?? []).slice().sort((a, b) => a.edit - b.edit || a.repeat - b.repeat);
    questionCount += passage.questions.length;
    done += list.length;
    const summary: PassageSummary = {
      passage: passage.index,
      title: passage.title,
      questions: passage.questions.length,
      innerLoops: list.length,
      baseline: null,
      adapted: null,
      gain: null,
    };
    perPassage.push(summary);
    if (list.length === 0) continue;
    passagesEvaluated++;
    for (const record of list) {
      if (record.passageOnly) passageOnlyInnerLoops++;
      if (record.training) {
        firstLosses.push(record.training.firstEpochLoss);
        lastLosses.push(record.training.lastEpochLoss);
        epochLossesOf(record.training.stepLosses, config.train.epochs).forEach((value, epoch) => {
          if (epochLosses[epoch] === undefined) epochLosses[epoch] = [];
          epochLosses[epoch].push(value);
        });
        trainTokens += record.training.trainTokens;
      }
      timing.innerLoopSeconds += record.timings?.totalSeconds ?? 0;
      timing.baselineSeconds += record.timings?.baselineSeconds ?? 0;
      timing.trainSeconds += record.timings?.trainSeconds ?? 0;
      timing.answerSeconds += record.timings?.answerSeconds ?? 0;
      timing.gradeSeconds += record.timings?.gradeSeconds ?? 0;
    }

    // Baseline: the same answers and grades in every record of the passage; take the first.
    const baselineGrades = list[0].questions.map((q) => q.baselineGrade);
    summary.baseline = accuracyOf(baselineGrades);
    failedVerdicts.baseline += baselineGrades.filter((grade) => grade.correct === null).length;

    // Adapted: mean over repeats per self-edit, then mean over self-edits.
    const byEdit = new Map<number, number[]>();
    for (const record of list) {
      failedVerdicts.adapted += record.questions.filter((q) => q.adaptedGrade.correct === null).length;
      if (record.adaptedAccuracy === null) continue;
      const accuracies = byEdit.get(record.edit) ?? [];
      accuracies.push(record.adaptedAccuracy);
      byEdit.set(record.edit, accuracies);
    }
    summary.adapted = byEdit.size === 0 ? null : mean([...byEdit.values()].map((accuracies) => mean(accuracies)));
    if (summary.baseline !== null) macroBaseline.push(summary.baseline);
    if (summary.adapted !== null) macroAdapted.push(summary.adapted);
    if (summary.baseline !== null && summary.adapted !== null) {
      summary.gain = summary.adapted - summary.baseline;
      macroGain.push(summary.gain);
    }

    // Per question: baseline 0/1, adapted = mean over the inner loops that graded it.
    passage.questions.forEach((_, q) => {
      const baseline = list[0].questions[q]?.baselineGrade;
      const adaptedGrades = list.map((record) => record.questions[q]?.adaptedGrade).filter((g) => g !== undefined);
      if (baseline === undefined) return;
      local.baseline.exactMatch.push(baseline.exactMatch);
      local.baseline.f1.push(baseline.f1);
      local.baseline.contains.push(baseline.contains ? 1 : 0);
      local.adapted.exactMatch.push(mean(adaptedGrades.map((g) => g.exactMatch)));
      local.adapted.f1.push(mean(adaptedGrades.map((g) => g.f1)));
      local.adapted.contains.push(mean(adaptedGrades.map((g) => (g.contains ? 1 : 0))));
      const baselineValue = baseline.correct === null ? null : baseline.correct ? 1 : 0;
      const graded = adaptedGrades.filter((g) => g.correct !== null).map((g) => (g.correct ? 1 : 0));
      const adaptedValue = graded.length === 0 ? null : mean(graded);
      if (baselineValue !== null) microBaseline.push(baselineValue);
      if (adaptedValue !== null) microAdapted.push(adaptedValue);
      if (baselineValue !== null && adaptedValue !== null) microGain.push(adaptedValue - baselineValue);
    });
  }

  const expected = passages.length * innerLoopsPerPassage(config);
  return {
    format: EVALUATION_SUMMARY_FORMAT,
    mode: config.mode,
    grader: { ...config.grader, headline: headlineDescription(config.grader) },
    config,
    input: info.input,
    model: info.model,
    passages: passages.length,
    passagesEvaluated,
    questions: questionCount,
    innerLoops: { expected, done },
    complete: done >= expected,
    macro: { baseline: intervalOf(macroBaseline), adapted: intervalOf(macroAdapted), gain: intervalOf(macroGain) },
    micro: { baseline: intervalOf(microBaseline), adapted: intervalOf(microAdapted), gain: intervalOf(microGain) },
    localMetrics: {
      baseline: {
        exactMatch: meanOrNull(local.baseline.exactMatch),
        f1: meanOrNull(local.baseline.f1),
        contains: meanOrNull(local.baseline.contains),
      },
      adapted: {
        exactMatch: meanOrNull(local.adapted.exactMatch),
        f1: meanOrNull(local.adapted.f1),
        contains: meanOrNull(local.adapted.contains),
      },
    },
    failedVerdicts,
    passageOnlyInnerLoops,
    training:
      firstLosses.length === 0
        ? null
        : {
            meanFirstEpochLoss: mean(firstLosses),
            meanLastEpochLoss: mean(lastLosses),
            trainTokens,
            meanEpochLosses: epochLosses.map((values) => mean(values)),
          },
    plots: firstLosses.length === 0 ? [GAINS_SVG] : [GAINS_SVG, LOSS_SVG],
    perPassage,
    timing: {
      ...timing,
      innerLoopsPerHour: timing.innerLoopSeconds > 0 && done > 0 ? (3600 * done) / timing.innerLoopSeconds : null,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Running

export interface EvaluateRequest {
  modelDir: string;
  /** Self-edit file (reference format) or, in the baseline modes, a passage file. */
  inputPath: string;
  outDir: string;
  resume: boolean;
  config: EvaluationConfig;
  /** Tokenizer folder (default: the model folder). */
  tokenizerDir?: string;
  /** API key for the judge (default: env OPENAI_API_KEY). */
  judgeApiKey?: string;
  /** A judge to use instead of building one from config.grader (tests). */
  judge?: AnswerJudge;
  progressStream?: ProgressStream;
  log?: (line: string) => void;
}

/** Loaded model pieces the inner loops share. */
interface Engine {
  model: Model;
  tokenizer: TextTokenizer;
  stopTokenIds: number[];
}

function checkConfig(config: EvaluationConfig): void {
  const positive: [string, number][] = [
    ["completions", config.completions],
    ["repeats", config.repeats],
    ["limit", config.limit],
    ["epochs", config.train.epochs],
    ["batch-size", config.train.batchSize],
    ["max-answer-tokens", config.maxAnswerTokens],
    ["rank", config.lora.rank],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  }
  if (config.mode !== "self-edits" && config.completions !== 1) {
    throw new Error(`--completions applies to self-edit files; the ${config.mode} baseline has one (empty) self-edit`);
  }
  if (config.mode === "no-update" && config.repeats !== 1) {
    throw new Error("--repeats applies to inner loops; --no-update trains nothing (its answers are greedy)");
  }
}

/** Runs (or resumes) an evaluation and writes its records and summary; returns the summary. */
export async function evaluateKnowledge(request: EvaluateRequest): Promise<EvaluationSummary> {
  const { config } = request;
  const log = request.log ?? (() => {});
  checkConfig(config);
  const passages = readEvaluationPassages(request.inputPath, config);
  const judge = judgeOf(config.grader, request);

  const modelFingerprint = fingerprintModelFolder(request.modelDir);
  const dataFingerprint = fingerprintFile(request.inputPath);
  const loaded = loadModel(request.modelDir);
  const tokenizerSource = request.tokenizerDir ?? request.modelDir;
  const tokenizer = loadTokenizer(tokenizerSource);
  checkTokenizerFitsModel(tokenizer, loaded.config, tokenizerSource);
  const engine: Engine = {
    model: new Model(loaded.config, loaded.weights),
    tokenizer,
    stopTokenIds: [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])],
  };

  const run = openRun(
    request.outDir,
    {
      command: EVALUATE_COMMAND,
      config,
      fingerprints: {
        model: { ...modelFingerprint, path: path.resolve(request.modelDir) },
        data: { sha256: dataFingerprint.sha256, size: dataFingerprint.size, path: path.resolve(request.inputPath) },
      },
    },
    // Growing or shrinking the passage range keeps every finished inner loop valid.
    { resume: request.resume, allowDifferent: ["config.limit"] },
  );
  try {
    const records = run.openRecords<EvaluationRecord>(EVALUATION_RECORDS, { validate: validateRecord });
    try {
      if (records.truncatedBytes > 0)
        log(`cut a torn last record (${records.truncatedBytes} bytes) from ${records.path}`);
      await evaluatePassages(run, records, passages, config, engine, judge, request.progressStream, log);
      const summary = summarizeEvaluation(passages, records.values(), config, {
        input: path.resolve(request.inputPath),
        model: path.resolve(request.modelDir),
      });
      writeEvaluationPlots(run.dir, summary);
      run.writeSummary({ markdown: renderEvaluationMarkdown(summary), json: summary });
      return summary;
    } finally {
      records.close();
    }
  } finally {
    run.release();
  }
}

async function evaluatePassages(
  run: Run,
  records: RecordLog<EvaluationRecord>,
  passages: readonly EvaluationPassage[],
  config: EvaluationConfig,
  engine: Engine,
  judge: AnswerJudge | null,
  progressStream: ProgressStream | undefined,
  log: (line: string) => void,
): Promise<void> {
  const settings = innerLoopSettingsOf(config);
  const perPassage = innerLoopsPerPassage(config);
  const repeats = config.mode === "no-update" ? 1 : config.repeats;
  const keysOf = (passage: EvaluationPassage): string[] =>
    passage.selfEdits.flatMap((_, edit) =>
      Array.from({ length: repeats }, (_, repeat) => recordKey(passage.index, edit, repeat)),
    );
  const alreadyDone = passages.reduce((n, passage) => n + keysOf(passage).filter((k) => records.has(k)).length, 0);
  if (run.resumed) log(`resuming ${run.dir}: ${alreadyDone} of ${passages.length * perPassage} inner loops done`);
  const progress = createProgress({
    total: passages.length * perPassage,
    done: alreadyDone,
    name: "inner loops",
    stream: progressStream,
  });
  const { model, tokenizer, stopTokenIds } = engine;
  for (const passage of passages) {
    const keys = keysOf(passage);
    if (keys.every((key) => records.has(key))) continue;
    const prompts = passage.questions.map((q) => closedBookQaPrompt(passage.title, q.question));

    // The baseline: reused from a finished record of this passage, else answered and graded now.
    let baselineSeconds = 0;
    const existing = keys.map((key) => records.get(key)).find((record) => record !== undefined);
    let baselineAnswers: string[];
    let baselineGrades: AnswerGrade[];
    if (existing) {
      baselineAnswers = existing.questions.map((q) => q.baselineAnswer);
      baselineGrades = existing.questions.map((q) => q.baselineGrade);
    } else {
      const started = performance.now();
      model.adapter = null;
      baselineAnswers = answerPrompts(model, tokenizer, prompts, settings, stopTokenIds);
      baselineGrades = await gradeAnswers(passage, baselineAnswers, judge);
      baselineSeconds = (performance.now() - started) / 1000;
    }

    for (let edit = 0; edit < passage.selfEdits.length; edit++) {
      const selfEdit = passage.selfEdits[edit];
      for (let repeat = 0; repeat < repeats; repeat++) {
        const key = recordKey(passage.index, edit, repeat);
        if (records.has(key)) continue;
        progress.setLabel(key);
        const started = performance.now();
        const seed = innerLoopSeed(config.seed, key);
        const update = config.mode !== "no-update";
        const sequences = update
          ? buildTrainSequences(selfEdit, passage.context, passage.title, { splitNewlines: config.splitNewlines })
          : [];
        let adaptedAnswers = baselineAnswers;
        let adaptedGrades = baselineGrades;
        let training: EvaluationRecord["training"] = null;
        let trainSeconds = 0;
        let answerSeconds = 0;
        let gradeSeconds = 0;
        if (update) {
          const stepLosses: number[] = [];
          const result = runInnerLoop(model, tokenizer, sequences, prompts, settings, stopTokenIds, seed, (step) =>
            stepLosses.push(step.loss),
          );
          adaptedAnswers = result.answers;
          trainSeconds = result.trainSeconds;
          answerSeconds = result.answerSeconds;
          training = {
            steps: stepLosses.length,
            stepLosses,
            firstEpochLoss: result.firstEpochLoss,
            lastEpochLoss: result.lastEpochLoss,
            trainTokens: result.trainTokens,
          };
          const gradeStart = performance.now();
          adaptedGrades = await gradeAnswers(passage, adaptedAnswers, judge);
          gradeSeconds = (performance.now() - gradeStart) / 1000;
        }
        const baselineAccuracy = accuracyOf(baselineGrades);
        const adaptedAccuracy = accuracyOf(adaptedGrades);
        const record: EvaluationRecord = {
          key,
          passage: passage.index,
          edit,
          repeat,
          title: passage.title,
          seed,
          update,
          passageOnly: pythonStrip(selfEdit) === "",
          selfEdit,
          sequences,
          sequenceTokens: sequences.map(
            (text) => tokenizer.encode(text, { addSpecialTokens: settings.addSpecialTokens }).length,
          ),
          questions: passage.questions.map((q, i) => ({
            question: q.question,
            gold: q.answer,
            baselineAnswer: baselineAnswers[i],
            baselineGrade: baselineGrades[i],
            adaptedAnswer: adaptedAnswers[i],
            adaptedGrade: adaptedGrades[i],
          })),
          baselineAccuracy,
          adaptedAccuracy,
          gain: baselineAccuracy === null || adaptedAccuracy === null ? null : adaptedAccuracy - baselineAccuracy,
          training,
          timings: {
            baselineSeconds,
            trainSeconds,
            answerSeconds,
            gradeSeconds,
            totalSeconds: (performance.now() - started) / 1000 + baselineSeconds,
          },
        };
        records.appendRecord(key, record);
        baselineSeconds = 0;
        progress.tick(1, key);
      }
    }
  }
  progress.finish();
}
