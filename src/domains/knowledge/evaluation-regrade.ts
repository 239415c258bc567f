/**
 * Re-grading the failed judge verdicts of a `seal knowledge evaluate` run: on `--resume` (evaluate.ts, before the
 * remaining inner loops) and by `seal knowledge regrade RUN` for a run as it stands (`regradeEvaluationRun`), which
 * then rewrites the summary and plots. Only the grading is redone: the answers are read from the records.
 */
import fs from "node:fs";
import path from "node:path";
import { fingerprintFile } from "../../seal/fingerprint.js";
import { openRecordLog } from "../../seal/records.js";
import { RunLock, readRunInfo, SUMMARY_JSON_FILE } from "../../seal/run-dir.js";
import { type AnswerJudge, accuracyOf, judgeItemOf, judgeOf } from "./answer-grading.js";
import { EVALUATE_COMMAND, type EvaluationConfig } from "./evaluation-config.js";
import { finishEvaluationRun } from "./evaluation-outputs.js";
import { readEvaluationPassages } from "./evaluation-passages.js";
import { EVALUATION_RECORDS, type EvaluationRecord, validateEvaluationRecord } from "./evaluation-records.js";
import type { EvaluationSummary } from "./evaluation-summary.js";
import { JudgeFailuresError } from "./judge-failures.js";
import type { JudgeSettings } from "./judge-session.js";
import { describeRegrade, type GradedRecordView, type RegradeOutcome, regradeRecordLog } from "./regrade-records.js";

/** The judge-graded slots of an evaluation record, and its accuracies recomputed from them. */
export function evaluationRecordView(passages?: ReadonlySet<number>): GradedRecordView<EvaluationRecord> {
  const view: GradedRecordView<EvaluationRecord> = {
    slotsOf: (record) =>
      record.questions.flatMap((q) => [
        { item: judgeItemOf(record.title, q.question, q.gold, q.baselineAnswer), grade: q.baselineGrade },
        { item: judgeItemOf(record.title, q.question, q.gold, q.adaptedAnswer), grade: q.adaptedGrade },
      ]),
    refresh: (record) => {
      record.baselineAccuracy = accuracyOf(record.questions.map((q) => q.baselineGrade));
      record.adaptedAccuracy = accuracyOf(record.questions.map((q) => q.adaptedGrade));
      record.gain =
        record.baselineAccuracy === null || record.adaptedAccuracy === null
          ? null
          : record.adaptedAccuracy - record.baselineAccuracy;
    },
  };
  if (passages !== undefined) view.include = (record) => passages.has(record.passage);
  return view;
}

export interface RegradeRequest {
  /** The run folder of a `seal knowledge evaluate` run. */
  runDir: string;
  judgeSettings?: JudgeSettings;
  /** Ask the judge at this base URL instead of the run's (e.g. the server moved); the model stays the run's. */
  baseUrl?: string;
  judgeApiKey?: string;
  /** A judge to use instead of the run's (tests). */
  judge?: AnswerJudge;
  log?: (line: string) => void;
}

/** Reads the config the run's last summary was made with (--limit may have changed on a resume), else run.json's. */
function configOfRun(dir: string, runConfig: unknown): EvaluationConfig {
  const summaryFile = path.join(dir, SUMMARY_JSON_FILE);
  if (fs.existsSync(summaryFile)) {
    try {
      const summary = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as { config?: EvaluationConfig };
      if (summary.config !== undefined) return summary.config;
    } catch {
      // an unreadable summary is rewritten below; run.json's config is as good
    }
  }
  return runConfig as EvaluationConfig;
}

/** The run's input file, checked to be the one the run read (its passages give the keys and questions). */
function inputOfRun(dir: string, fingerprint: unknown): string {
  const data = fingerprint as { sha256?: string; path?: string } | undefined;
  if (data?.path === undefined || data.sha256 === undefined) {
    throw new Error(`${path.join(dir, "run.json")}: field "fingerprints.data": no input path and hash recorded`);
  }
  if (!fs.existsSync(data.path)) {
    throw new Error(`${data.path}: the run's input file is missing (regrade re-reads its passages); restore it there`);
  }
  if (fingerprintFile(data.path).sha256 !== data.sha256) {
    throw new Error(`${data.path}: the run's input file changed since the run (its sha256 differs from run.json's)`);
  }
  return data.path;
}

/**
 * `seal knowledge regrade RUN`: asks the judge again for every failed verdict of the run's selected passages,
 * rewrites the records (atomically) and the summary, and applies the failure policy like the run itself.
 */
export async function regradeEvaluationRun(
  request: RegradeRequest,
): Promise<{ summary: EvaluationSummary; outcome: RegradeOutcome }> {
  const dir = path.resolve(request.runDir);
  const log = request.log ?? (() => {});
  const info = readRunInfo(dir);
  if (info.command !== EVALUATE_COMMAND) {
    const hint =
      info.command === "knowledge train"
        ? `regrade its round-N/evaluate folders, or resume it with --resume (failed verdicts are graded again first)`
        : `resume it with --resume: failed verdicts are graded again first`;
    throw new Error(`${dir}: a "${info.command}" run; regrade works on "${EVALUATE_COMMAND}" runs: ${hint}`);
  }
  const config = configOfRun(dir, info.config);
  if (config.grader?.kind !== "judge") {
    throw new Error(`${dir}: the run was graded locally (--grader local): there are no judge verdicts to regrade`);
  }
  const inputPath = inputOfRun(dir, info.fingerprints.data);
  const passages = readEvaluationPassages(inputPath, config);
  const modelPath = (info.fingerprints.model as { path?: string } | undefined)?.path ?? "";
  const grader = { ...config.grader, baseUrl: request.baseUrl ?? config.grader.baseUrl };
  const judge = judgeOf(grader, request, `run \`seal knowledge regrade ${dir}\` again to grade them`);
  if (judge === null) throw new Error("unreachable: a judge grader without a judge");

  const lock = RunLock.acquire(dir, { command: "knowledge regrade" });
  try {
    const records = openRecordLog<EvaluationRecord>(path.join(dir, `${EVALUATION_RECORDS}.jsonl`), {
      validate: validateEvaluationRecord,
    });
    try {
      const outcome = await regradeRecordLog(
        records,
        judge,
        evaluationRecordView(new Set(passages.map((p) => p.index))),
      );
      log(describeRegrade(outcome));
      let summary: EvaluationSummary;
      try {
        summary = finishEvaluationRun(
          dir,
          passages,
          records.values(),
          config,
          { input: inputPath, model: modelPath },
          request.judgeSettings?.maxFailures,
        );
      } catch (error) {
        // A judge that stopped explains the failures better than their count does.
        if (error instanceof JudgeFailuresError) judge.throwIfStopped();
        throw error;
      }
      judge.throwIfStopped();
      return { summary, outcome };
    } finally {
      records.close();
    }
  } finally {
    lock.release();
  }
}
