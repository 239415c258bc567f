/**
 * `seal knowledge evaluate`: SEAL's inner loop over a set of passages (reference-implementation.md §1.3–1.6).
 *
 * For each passage: the base model's closed-book answers are computed (and graded) once; then for each of the first
 * `completions` self-edits × `repeats`: build the training sequences, train a fresh LoRA adapter, answer the
 * passage's questions closed-book with it, grade, and append ONE record keyed `passage-{i}/edit-{j}/repeat-{r}` to
 * the run's `records.jsonl` (i = the record's index in the input file). A resumed run first asks the judge again for
 * the verdicts that failed (evaluation-regrade.ts), then skips finished keys. At the end the records are summarized
 * (summary.json, summary.md) and plotted, and a run with too many failed verdicts ends with an error
 * (judge-failures.ts). A judge that refuses (bad key, unknown model) or keeps failing stops the run as soon as the
 * record in progress is written (judge-session.ts).
 *
 * Differences from the reference, on purpose: the baseline is answered and graded once per passage and copied into
 * every record of that passage (the reference recomputes it per request; greedy answers do not change, only the
 * judge's noise would). The others are named where they live: grading in answer-grading.ts, the inner loop's seed
 * in evaluation-records.ts.
 *
 * The pieces: the configuration and baselines (evaluation-config.ts), the input (evaluation-passages.ts), grading
 * (answer-grading.ts), the records with their keys and seeds (evaluation-records.ts), the summary
 * (evaluation-summary.ts, rendered by report.ts) and the plots (evaluation-plots.ts).
 */
import path from "node:path";
import type { DivergenceRecord } from "../../engine/divergence.js";
import { Model } from "../../engine/model.js";
import { loadModel } from "../../io/model-files.js";
import { checkTokenizerFitsModel, loadTokenizer, type TextTokenizer } from "../../io/tokenizer.js";
import { fingerprintFile, fingerprintModelFolder } from "../../seal/fingerprint.js";
import { DEFAULT_PARALLEL_ADAPTERS } from "../../seal/parallel-adapters.js";
import { createProgress, type ProgressStream } from "../../seal/progress.js";
import type { RecordLog } from "../../seal/records.js";
import { openRun, type Run } from "../../seal/run-dir.js";
import {
  type AnswerGrade,
  type AnswerJudge,
  accuracyOf,
  divergedGrade,
  gradeAnswers,
  judgeOf,
} from "./answer-grading.js";
import { EVALUATE_COMMAND, type EvaluationConfig, innerLoopsPerPassage } from "./evaluation-config.js";
import { finishEvaluationRun } from "./evaluation-outputs.js";
import { type EvaluationPassage, readEvaluationPassages } from "./evaluation-passages.js";
import {
  EVALUATION_RECORDS,
  type EvaluationRecord,
  innerLoopSeed,
  recordKey,
  validateEvaluationRecord,
} from "./evaluation-records.js";
import { evaluationRecordView } from "./evaluation-regrade.js";
import type { EvaluationSummary } from "./evaluation-summary.js";
import { answerPrompts, type InnerLoopOutcome, type InnerLoopSettings, runInnerLoops } from "./inner-loop.js";
import { innerLoopSettingsOf } from "./inner-loop-config.js";
import type { JudgeSession, JudgeSettings } from "./judge-session.js";
import { closedBookQaPrompt } from "./prompts.js";
import { regradeOnResume } from "./regrade-records.js";
import { buildTrainSequences, pythonStrip } from "./sequences.js";

export { EVALUATE_COMMAND };

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
  /** Time limit, attempts and failure budget of the judge (not part of the config: may change on --resume). */
  judgeSettings?: JudgeSettings;
  /** Inner loops trained and answered together (not part of the config: results do not depend on it). */
  parallelAdapters?: number;
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
  const parallel = request.parallelAdapters;
  if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1))
    throw new Error(`--parallel-adapters must be a positive integer, got ${parallel}`);
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
    const records = run.openRecords<EvaluationRecord>(EVALUATION_RECORDS, { validate: validateEvaluationRecord });
    try {
      if (records.truncatedBytes > 0)
        log(`cut a torn last record (${records.truncatedBytes} bytes) from ${records.path}`);
      if (run.resumed && judge !== null) {
        await regradeOnResume(records, judge, evaluationRecordView(new Set(passages.map((p) => p.index))), log);
      }
      const parallel = request.parallelAdapters ?? DEFAULT_PARALLEL_ADAPTERS;
      await evaluatePassages(run, records, passages, config, engine, judge, parallel, request.progressStream, log);
      return finishEvaluationRun(
        run.dir,
        passages,
        records.values(),
        config,
        { input: path.resolve(request.inputPath), model: path.resolve(request.modelDir) },
        request.judgeSettings?.maxFailures,
      );
    } finally {
      records.close();
    }
  } finally {
    run.release();
  }
}

interface Baseline {
  answers: string[];
  grades: AnswerGrade[];
  /** Time to answer and grade it, charged to the first record written for its passage (0 when reused). */
  seconds: number;
}

interface PendingUnit {
  passage: EvaluationPassage;
  edit: number;
  repeat: number;
  key: string;
}

async function evaluatePassages(
  run: Run,
  records: RecordLog<EvaluationRecord>,
  passages: readonly EvaluationPassage[],
  config: EvaluationConfig,
  engine: Engine,
  judge: JudgeSession | null,
  parallelAdapters: number,
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
  const pending: PendingUnit[] = passages
    .flatMap((passage) =>
      passage.selfEdits.flatMap((_, edit) =>
        Array.from({ length: repeats }, (_, repeat) => ({
          passage,
          edit,
          repeat,
          key: recordKey(passage.index, edit, repeat),
        })),
      ),
    )
    .filter((unit) => !records.has(unit.key));
  const baselines = new Map<number, Baseline>();
  // Inner loops run `parallelAdapters` at a time (their adapters train and answer together); records stay one per
  // inner loop, appended in order, so --resume picks up unit by unit whatever the group size was.
  for (let from = 0; from < pending.length; from += parallelAdapters) {
    const group = pending.slice(from, from + parallelAdapters);
    for (const unit of group) await ensureBaseline(unit.passage, records, keysOf, baselines, engine, settings, judge);
    progress.setLabel(group.length === 1 ? group[0].key : `${group[0].key} +${group.length - 1}`);
    await evaluateGroup(group, records, baselines, config, engine, judge, log, () => progress.tick(1));
  }
  progress.finish();
}

/** The base model's answers for a passage: reused from one of its finished records, else answered and graded. */
async function ensureBaseline(
  passage: EvaluationPassage,
  records: RecordLog<EvaluationRecord>,
  keysOf: (passage: EvaluationPassage) => string[],
  baselines: Map<number, Baseline>,
  engine: Engine,
  settings: InnerLoopSettings,
  judge: JudgeSession | null,
): Promise<void> {
  if (baselines.has(passage.index)) return;
  const existing = keysOf(passage)
    .map((key) => records.get(key))
    .find((record) => record !== undefined);
  if (existing) {
    baselines.set(passage.index, {
      answers: existing.questions.map((q) => q.baselineAnswer),
      grades: existing.questions.map((q) => q.baselineGrade),
      seconds: 0,
    });
    return;
  }
  const started = performance.now();
  const { model, tokenizer, stopTokenIds } = engine;
  const answers = answerPrompts(model, tokenizer, promptsOf(passage), settings, stopTokenIds, null);
  const grades = await gradeAnswers(passage, answers, judge);
  // A stopped judge would fail every verdict of the inner loops below: stop before training them.
  judge?.throwIfStopped();
  baselines.set(passage.index, { answers, grades, seconds: (performance.now() - started) / 1000 });
}

function promptsOf(passage: EvaluationPassage): string[] {
  return passage.questions.map((q) => closedBookQaPrompt(passage.title, q.question));
}

/** Trains and answers a group of inner loops together, then grades and records each, in order. */
async function evaluateGroup(
  group: PendingUnit[],
  records: RecordLog<EvaluationRecord>,
  baselines: Map<number, Baseline>,
  config: EvaluationConfig,
  engine: Engine,
  judge: JudgeSession | null,
  log: (line: string) => void,
  tick: () => void,
): Promise<void> {
  const settings = innerLoopSettingsOf(config);
  const { model, tokenizer, stopTokenIds } = engine;
  const started = performance.now();
  const update = config.mode !== "no-update";
  const units = group.map((unit) => ({
    seed: innerLoopSeed(config.seed, unit.key),
    sequences: update
      ? buildTrainSequences(unit.passage.selfEdits[unit.edit], unit.passage.context, unit.passage.title, {
          splitNewlines: config.splitNewlines,
        })
      : [],
    questionPrompts: promptsOf(unit.passage),
  }));
  const outcomes: (InnerLoopOutcome | null)[] = update
    ? runInnerLoops(model, tokenizer, units, settings, stopTokenIds)
    : units.map(() => null);
  const groupSeconds = (performance.now() - started) / 1000 / group.length;
  for (const [i, unit] of group.entries()) {
    const { passage, edit, repeat, key } = unit;
    const baseline = baselines.get(passage.index)!;
    const outcome = outcomes[i];
    let adaptedAnswers = baseline.answers;
    let adaptedGrades = baseline.grades;
    let training: EvaluationRecord["training"] = null;
    let trainSeconds = 0;
    let answerSeconds = 0;
    let gradeSeconds = 0;
    let divergence: DivergenceRecord | undefined;
    if (outcome?.ok) {
      const { result } = outcome;
      adaptedAnswers = result.answers;
      trainSeconds = result.trainSeconds;
      answerSeconds = result.answerSeconds;
      training = {
        steps: outcome.stepLosses.length,
        stepLosses: outcome.stepLosses,
        firstEpochLoss: result.firstEpochLoss,
        lastEpochLoss: result.lastEpochLoss,
        trainTokens: result.trainTokens,
      };
      const gradeStart = performance.now();
      adaptedGrades = await gradeAnswers(passage, adaptedAnswers, judge);
      gradeSeconds = (performance.now() - gradeStart) / 1000;
    } else if (outcome) {
      // A diverged inner loop is a finished unit with zero reward: recorded, so --resume does not retry it.
      divergence = outcome.error.toRecord();
      trainSeconds = outcome.trainSeconds;
      adaptedAnswers = passage.questions.map(() => "");
      adaptedGrades = passage.questions.map(() => divergedGrade());
      log(`${key}: ${outcome.error.message}; recorded as diverged (reward 0)`);
    }
    const baselineAccuracy = accuracyOf(baseline.grades);
    const adaptedAccuracy = accuracyOf(adaptedGrades);
    const selfEdit = passage.selfEdits[edit];
    const sequences = units[i].sequences;
    const record: EvaluationRecord = {
      key,
      passage: passage.index,
      edit,
      repeat,
      title: passage.title,
      seed: units[i].seed,
      update,
      passageOnly: pythonStrip(selfEdit) === "",
      selfEdit,
      sequences,
      sequenceTokens: sequences.map(
        (text) => tokenizer.encode(text, { addSpecialTokens: settings.addSpecialTokens }).length,
      ),
      questions: passage.questions.map((q, k) => ({
        question: q.question,
        gold: q.answer,
        baselineAnswer: baseline.answers[k],
        baselineGrade: baseline.grades[k],
        adaptedAnswer: adaptedAnswers[k],
        adaptedGrade: adaptedGrades[k],
      })),
      baselineAccuracy,
      adaptedAccuracy,
      gain: baselineAccuracy === null || adaptedAccuracy === null ? null : adaptedAccuracy - baselineAccuracy,
      training,
      ...(divergence === undefined ? {} : { divergence }),
      timings: {
        baselineSeconds: baseline.seconds,
        trainSeconds,
        answerSeconds,
        gradeSeconds,
        totalSeconds: groupSeconds + gradeSeconds + baseline.seconds,
      },
    };
    records.appendRecord(key, record);
    baseline.seconds = 0;
    judge?.throwIfStopped();
    tick();
  }
}
