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
import { type DivergenceRecord, TrainingDivergedError } from "../../engine/divergence.js";
import { Model } from "../../engine/model.js";
import { loadModel } from "../../io/model-files.js";
import { checkTokenizerFitsModel, loadTokenizer, type TextTokenizer } from "../../io/tokenizer.js";
import { fingerprintFile, fingerprintModelFolder } from "../../seal/fingerprint.js";
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
import { answerPrompts, runInnerLoop } from "./inner-loop.js";
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
    const records = run.openRecords<EvaluationRecord>(EVALUATION_RECORDS, { validate: validateEvaluationRecord });
    try {
      if (records.truncatedBytes > 0)
        log(`cut a torn last record (${records.truncatedBytes} bytes) from ${records.path}`);
      if (run.resumed && judge !== null) {
        await regradeOnResume(records, judge, evaluationRecordView(new Set(passages.map((p) => p.index))), log);
      }
      await evaluatePassages(run, records, passages, config, engine, judge, request.progressStream, log);
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

async function evaluatePassages(
  run: Run,
  records: RecordLog<EvaluationRecord>,
  passages: readonly EvaluationPassage[],
  config: EvaluationConfig,
  engine: Engine,
  judge: JudgeSession | null,
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
      // A stopped judge would fail every verdict of the inner loops below: stop before training them.
      judge?.throwIfStopped();
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
        let divergence: DivergenceRecord | undefined;
        if (update) {
          const stepLosses: number[] = [];
          const trainStart = performance.now();
          try {
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
          } catch (error) {
            // A diverged inner loop is a finished unit with zero reward: recorded, so --resume does not retry it.
            if (!(error instanceof TrainingDivergedError)) throw error;
            divergence = error.toRecord();
            trainSeconds = (performance.now() - trainStart) / 1000;
            adaptedAnswers = passage.questions.map(() => "");
            adaptedGrades = passage.questions.map(() => divergedGrade());
            log(`${key}: ${error.message}; recorded as diverged (reward 0)`);
          }
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
          ...(divergence === undefined ? {} : { divergence }),
          timings: {
            baselineSeconds,
            trainSeconds,
            answerSeconds,
            gradeSeconds,
            totalSeconds: (performance.now() - started) / 1000 + baselineSeconds,
          },
        };
        records.appendRecord(key, record);
        judge?.throwIfStopped();
        baselineSeconds = 0;
        progress.tick(1, key);
      }
    }
  }
  progress.finish();
}
