/**
 * `seal knowledge cpt`: continued pretraining on many documents at once (reference-implementation.md §1.8).
 *
 * The training sequences of the first N passages × their first k self-edits are pooled (`buildPooledTrainSequences`,
 * the passage once per self-edit), ONE LoRA adapter is trained on the pool, and the questions of all N passages are
 * answered closed-book by the base model and by the adapted model. The headline is micro accuracy (over questions)
 * with a 95% t interval; the macro mean over passages is reported beside it.
 *
 * Run folder and resume (phase granularity): `records.jsonl` holds one record per passage and phase
 * (`baseline/passage-{i}`, `adapted/passage-{i}`); the trained adapter is saved in PEFT format under `adapter/`
 * with `training.json` (losses). A resumed run reuses finished baseline records, loads the saved adapter instead of
 * training again, and answers only the passages not yet recorded; with a judge, it first grades the verdicts that
 * failed again (regrade-records.ts), and a run with too many failed verdicts ends with an error (judge-failures.ts).
 *
 * Defaults are the reference's CPT settings: N=200, k=5, r32/α64 on q/v, 3 epochs, lr 1e-3, batch 4, grad-accum 2,
 * `split_newlines=false`. Like `knowledge evaluate`, pad tokens are not trained on and the seed derives from `--seed`.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { type DivergenceRecord, TrainingDivergedError } from "../../engine/divergence.js";
import type { LoraAdapter } from "../../engine/lora-types.js";
import { Model } from "../../engine/model.js";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { baseModelFingerprint } from "../../io/base-fingerprint.js";
import { readJsonFile, writeJsonFile } from "../../io/json-file.js";
import { loadModel } from "../../io/model-files.js";
import { loadAdapter, saveAdapter } from "../../io/peft.js";
import { checkTokenizerFitsModel, loadTokenizer } from "../../io/tokenizer.js";
import { fingerprintFile, fingerprintModelFolder } from "../../seal/fingerprint.js";
import { lineChartSvg } from "../../seal/plots.js";
import { createProgress, type ProgressStream } from "../../seal/progress.js";
import { openRun } from "../../seal/run-dir.js";
import { mean } from "../../seal/stats.js";
import {
  type AnswerGrade,
  type AnswerJudge,
  accuracyOf,
  countJudgeVerdicts,
  divergedGrade,
  gradeAnswers,
  judgeItemOf,
  judgeOf,
} from "./answer-grading.js";
import { readSelfEditFile } from "./data.js";
import { innerLoopSeed } from "./evaluation-records.js";
import { type IntervalSummary, intervalOf } from "./evaluation-summary.js";
import { answerPrompts, runInnerLoop } from "./inner-loop.js";
import {
  defaultInnerLoopConfig,
  type GraderConfig,
  type InnerLoopConfig,
  innerLoopSettingsOf,
} from "./inner-loop-config.js";
import { checkJudgeFailures, describeVerdictCounts, type VerdictCounts } from "./judge-failures.js";
import type { JudgeSettings } from "./judge-session.js";
import { closedBookQaPrompt } from "./prompts.js";
import { type GradedRecordView, regradeOnResume } from "./regrade-records.js";
import { buildPooledTrainSequences } from "./sequences.js";

export const CPT_COMMAND = "knowledge cpt";
export const CPT_RECORDS = "records";
export const CPT_SUMMARY_FORMAT = "seal-knowledge-cpt/1";
export const CPT_ADAPTER_DIR = "adapter";
export const CPT_TRAINING_FILE = "training.json";
export const CPT_LOSS_SVG = "loss.svg";

export interface CptConfig extends InnerLoopConfig {
  /** First N records of the self-edit file. */
  passages: number;
  /** Self-edits per passage (first k non-blank; 0 = passage only, the reference's naive run). */
  k: number;
}

/** The reference's CPT settings: 3 epochs, batch 4, grad-accum 2, no line splitting; the rest as the inner loop. */
export function defaultCptConfig(overrides: Partial<CptConfig> = {}): CptConfig {
  return {
    passages: 200,
    k: 5,
    ...defaultInnerLoopConfig({
      train: { epochs: 3, lr: 1e-3, batchSize: 4, gradientAccumulation: 2, warmupSteps: 0, weightDecay: 0 },
      splitNewlines: false,
    }),
    ...overrides,
  };
}

export type CptPhase = "baseline" | "adapted";

export const cptRecordKey = (phase: CptPhase, passage: number): string => `${phase}/passage-${passage}`;

/** One passage's answers in one phase. */
export interface CptRecord {
  key: string;
  phase: CptPhase;
  passage: number;
  title: string;
  questions: { question: string; gold: string; answer: string; grade: AnswerGrade }[];
  accuracy: number | null;
  seconds: number;
  /** Adapted phase only: the training diverged, so there was no adapter; every answer is empty and scored wrong. */
  diverged?: true;
}

export interface CptTraining {
  sequences: number;
  seed: number;
  steps: number;
  stepLosses: number[];
  firstEpochLoss: number;
  lastEpochLoss: number;
  trainTokens: number;
  trainSeconds: number;
  /** Present when the training diverged: no adapter was saved, the adapted phase scores 0. */
  divergence?: DivergenceRecord;
}

export interface CptSummary {
  format: string;
  command: string;
  model: string;
  selfEdits: string;
  grader: GraderConfig;
  passages: number;
  questions: number;
  /** Training sequences in the pool (reference: 2000 for 200 passages × 5 self-edits without line splitting). */
  sequences: number;
  training: CptTraining;
  micro: { baseline: IntervalSummary; adapted: IntervalSummary; gain: IntervalSummary };
  macro: { baseline: number | null; adapted: number | null };
  /** Judge verdicts asked for and failed (failed ones left out of the accuracies); null without a judge. */
  judgeVerdicts: VerdictCounts | null;
}

/** The judge-graded slots of a CPT record, and its accuracy recomputed from them. */
const cptRecordView: GradedRecordView<CptRecord> = {
  slotsOf: (record) =>
    record.questions.map((q) => ({ item: judgeItemOf(record.title, q.question, q.gold, q.answer), grade: q.grade })),
  refresh: (record) => {
    record.accuracy = accuracyOf(record.questions.map((q) => q.grade));
  },
};

export interface CptRequest {
  modelDir: string;
  selfEditsPath: string;
  outDir: string;
  resume: boolean;
  config: CptConfig;
  tokenizerDir?: string;
  judgeApiKey?: string;
  judge?: AnswerJudge;
  /** Time limit, attempts and failure budget of the judge (not part of the config). */
  judgeSettings?: JudgeSettings;
  progressStream?: ProgressStream;
  log?: (line: string) => void;
}

function checkConfig(config: CptConfig): void {
  const positive: [string, number][] = [
    ["passages", config.passages],
    ["epochs", config.train.epochs],
    ["batch-size", config.train.batchSize],
    ["grad-accum", config.train.gradientAccumulation],
    ["max-answer-tokens", config.maxAnswerTokens],
    ["rank", config.lora.rank],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  }
  if (!Number.isInteger(config.k) || config.k < 0)
    throw new Error(`--k must be a non-negative integer, got ${config.k}`);
}

/** 0/1 per graded question (failed judge calls left out). */
function verdicts(records: readonly CptRecord[]): number[] {
  return records.flatMap((r) =>
    r.questions.filter((q) => q.grade.correct !== null).map((q) => (q.grade.correct ? 1 : 0)),
  );
}

export async function runCpt(request: CptRequest): Promise<CptSummary> {
  const { config } = request;
  const log = request.log ?? (() => {});
  checkConfig(config);
  const all = readSelfEditFile(request.selfEditsPath);
  if (all.length === 0) throw new Error(`${request.selfEditsPath}: no records`);
  const articles = all.slice(0, config.passages);
  articles.forEach((a, i) => {
    if (a.questions.length === 0)
      throw new Error(`${request.selfEditsPath}: record ${i}: field "questions": no questions`);
  });
  const pool = buildPooledTrainSequences(articles, {
    completionsPerArticle: config.k,
    splitNewlines: config.splitNewlines,
  });
  const judge = judgeOf(config.grader, request);
  const modelFingerprint = fingerprintModelFolder(request.modelDir);
  const dataFingerprint = fingerprintFile(request.selfEditsPath);
  const loaded = loadModel(request.modelDir);
  const tokenizerSource = request.tokenizerDir ?? request.modelDir;
  const tokenizer = loadTokenizer(tokenizerSource);
  checkTokenizerFitsModel(tokenizer, loaded.config, tokenizerSource);
  const model = new Model(loaded.config, loaded.weights);
  const stopTokenIds = [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])];
  const settings = innerLoopSettingsOf(config);
  const run = openRun(
    request.outDir,
    {
      command: CPT_COMMAND,
      config,
      fingerprints: {
        model: { ...modelFingerprint, path: path.resolve(request.modelDir) },
        data: { sha256: dataFingerprint.sha256, size: dataFingerprint.size, path: path.resolve(request.selfEditsPath) },
      },
    },
    { resume: request.resume },
  );
  try {
    const records = run.openRecords<CptRecord>(CPT_RECORDS);
    try {
      const total = articles.length * 2 + 1;
      const doneAnswers = [...records.keys()].length;
      const adapterPath = path.join(run.dir, CPT_ADAPTER_DIR);
      const trainingPath = path.join(run.dir, CPT_TRAINING_FILE);
      const trainedBefore = fs.existsSync(trainingPath);
      if (run.resumed)
        log(
          `resuming ${run.dir}: ${doneAnswers} passage evaluations done, adapter ${trainedBefore ? "trained" : "not trained"}`,
        );
      if (run.resumed && judge !== null) await regradeOnResume(records, judge, cptRecordView, log);
      const progress = createProgress({
        total,
        done: doneAnswers + (trainedBefore ? 1 : 0),
        name: "steps",
        stream: request.progressStream,
      });
      const answerPhase = async (phase: CptPhase, diverged = false): Promise<void> => {
        const pending = articles.flatMap((_, i) => (records.has(cptRecordKey(phase, i)) ? [] : [i]));
        // passages answer in groups that fill a decode batch (a passage alone has a few questions); records stay
        // one per passage, in order, so --resume picks up passage by passage
        for (let from = 0; from < pending.length; ) {
          const group: number[] = [];
          let questions = 0;
          while (from < pending.length && (group.length === 0 || questions < settings.answerBatch)) {
            questions += articles[pending[from]].questions.length;
            group.push(pending[from++]);
          }
          progress.setLabel(cptRecordKey(phase, group[0]));
          const started = performance.now();
          const prompts = group.map((i) =>
            articles[i].questions.map((q) => closedBookQaPrompt(articles[i].title, q.question)),
          );
          const answers = diverged
            ? prompts.flat().map(() => "")
            : answerPrompts(model, tokenizer, prompts.flat(), settings, stopTokenIds);
          const seconds = (performance.now() - started) / 1000 / group.length;
          let next = 0;
          for (const [g, i] of group.entries()) {
            const key = cptRecordKey(phase, i);
            const article = articles[i];
            const mine = answers.slice(next, next + prompts[g].length);
            next += prompts[g].length;
            const gradeStarted = performance.now();
            const grades = diverged ? mine.map(() => divergedGrade()) : await gradeAnswers(article, mine, judge);
            records.appendRecord(key, {
              key,
              phase,
              passage: i,
              title: article.title,
              questions: article.questions.map((q, j) => ({
                question: q.question,
                gold: q.answer,
                answer: mine[j],
                grade: grades[j],
              })),
              accuracy: accuracyOf(grades),
              seconds: seconds + (performance.now() - gradeStarted) / 1000,
              ...(diverged ? { diverged: true as const } : {}),
            });
            judge?.throwIfStopped();
            progress.tick(1, key);
          }
        }
      };
      // Phase 1: the base model.
      model.adapter = null;
      await answerPhase("baseline");
      // Phase 2: one adapter on the pool (saved; a resume loads it). A diverged training saves none.
      const trainPool = (): { adapter: LoraAdapter | null; training: CptTraining } => {
        progress.setLabel("training");
        const seed = innerLoopSeed(config.seed, "cpt");
        const stepLosses: number[] = [];
        const trainStart = performance.now();
        const base = { sequences: pool.length, seed, stepLosses };
        let result: { adapter: LoraAdapter | null; training: CptTraining };
        try {
          const trained = runInnerLoop(model, tokenizer, pool, [], settings, stopTokenIds, seed, (s) =>
            stepLosses.push(s.loss),
          );
          result = {
            adapter: trained.adapter,
            training: {
              ...base,
              steps: stepLosses.length,
              firstEpochLoss: trained.firstEpochLoss,
              lastEpochLoss: trained.lastEpochLoss,
              trainTokens: trained.trainTokens,
              trainSeconds: trained.trainSeconds,
            },
          };
          saveAdapter(adapterPath, trained.adapter, {
            baseModel: path.resolve(request.modelDir),
            baseFingerprint: baseModelFingerprint(loaded.config, loaded.weights),
          });
        } catch (error) {
          if (!(error instanceof TrainingDivergedError)) throw error;
          log(`${error.message}; the adapted phase is scored 0 (no adapter)`);
          const training: CptTraining = {
            ...base,
            steps: stepLosses.length,
            firstEpochLoss: Number.NaN,
            lastEpochLoss: Number.NaN,
            trainTokens: 0,
            trainSeconds: (performance.now() - trainStart) / 1000,
            divergence: error.toRecord(),
          };
          result = { adapter: null, training };
        }
        writeJsonFile(trainingPath, result.training); // written last: marks the phase done
        progress.tick(1, "training");
        return result;
      };
      const previous = trainedBefore
        ? (readJsonFile(trainingPath, z.looseObject({ stepLosses: z.array(z.number()) })) as unknown as CptTraining)
        : null;
      const { adapter, training } =
        previous !== null && (previous.divergence !== undefined || fs.existsSync(adapterPath))
          ? {
              adapter:
                previous.divergence === undefined
                  ? loadAdapter(adapterPath, loaded.config, { base: loaded.weights, log })
                  : null,
              training: previous,
            }
          : trainPool();
      const diverged = training.divergence !== undefined;
      // Phase 3: the adapted model.
      model.adapter = adapter;
      await answerPhase("adapted", diverged);
      model.adapter = null;
      progress.finish();

      const of = (phase: CptPhase) =>
        articles.map((_, i) => records.get(cptRecordKey(phase, i))).filter((r): r is CptRecord => r !== undefined);
      const baseline = of("baseline");
      const adapted = of("adapted");
      const b = verdicts(baseline);
      const a = verdicts(adapted);
      const gains = a.length === b.length ? a.map((x, i) => x - b[i]) : [];
      const macroOf = (rs: CptRecord[]) => {
        const xs = rs.map((r) => r.accuracy).filter((x): x is number => x !== null);
        return xs.length ? mean(xs) : null;
      };
      const summary: CptSummary = {
        format: CPT_SUMMARY_FORMAT,
        command: CPT_COMMAND,
        model: path.resolve(request.modelDir),
        selfEdits: path.resolve(request.selfEditsPath),
        grader: config.grader,
        passages: articles.length,
        questions: articles.reduce((s, x) => s + x.questions.length, 0),
        sequences: pool.length,
        training,
        micro: { baseline: intervalOf(b), adapted: intervalOf(a), gain: intervalOf(gains) },
        macro: { baseline: macroOf(baseline), adapted: macroOf(adapted) },
        judgeVerdicts:
          judge === null
            ? null
            : countJudgeVerdicts([...baseline, ...adapted].flatMap((r) => r.questions.map((q) => q.grade))),
      };
      writeFileAtomic(
        path.join(run.dir, CPT_LOSS_SVG),
        lineChartSvg({
          title: "CPT training loss",
          xLabel: "optimizer step",
          yLabel: "loss (nats/token)",
          series: [{ label: "loss", points: training.stepLosses.map((l, i) => [i + 1, l] as [number, number]) }],
        }),
      );
      run.writeSummary({ markdown: cptMarkdown(summary), json: summary });
      if (summary.judgeVerdicts !== null) checkJudgeFailures(summary.judgeVerdicts, request.judgeSettings?.maxFailures);
      return summary;
    } finally {
      records.close();
    }
  } finally {
    run.release();
  }
}

function pct(i: IntervalSummary, signed = false): string {
  if (i.mean === null) return "n/a";
  const v = `${signed && i.mean >= 0 ? "+" : ""}${(i.mean * 100).toFixed(2)}%`;
  return i.halfWidth === null ? v : `${v} ± ${(i.halfWidth * 100).toFixed(2)}`;
}

export function cptMarkdown(s: CptSummary): string {
  const macro = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(2)}%`);
  return [
    "# seal knowledge cpt",
    "",
    `Model: \`${s.model}\`; self-edits: \`${s.selfEdits}\`; grader: ${s.grader.kind}.`,
    "",
    `${s.passages} passages, ${s.questions} questions, ${s.sequences} pooled training sequences, ` +
      (s.training.divergence === undefined
        ? `${s.training.steps} optimizer steps (loss ${s.training.firstEpochLoss.toFixed(4)} → ${s.training.lastEpochLoss.toFixed(4)}).`
        : `**the training diverged** (${s.training.divergence.error}): no adapter was saved and every adapted answer ` +
          "is scored wrong."),
    "",
    "| | micro accuracy (95% CI) | macro accuracy |",
    "|---|---|---|",
    `| baseline | ${pct(s.micro.baseline)} | ${macro(s.macro.baseline)} |`,
    `| adapted | ${pct(s.micro.adapted)} | ${macro(s.macro.adapted)} |`,
    `| gain | ${pct(s.micro.gain, true)} | |`,
    "",
    ...(s.judgeVerdicts === null ? [] : [`${describeVerdictCounts(s.judgeVerdicts)}; left out of the accuracies.`, ""]),
    `![training loss](${CPT_LOSS_SVG})`,
    "",
  ].join("\n");
}
