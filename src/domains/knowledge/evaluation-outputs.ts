/**
 * The end of an evaluation run (and of a regrade of one): the summary and plots written from the records, then the
 * judge failure policy applied (judge-failures.ts) — after the writing, so a failing run still has its summary.
 */
import path from "node:path";
import { writeSummary } from "../../seal/run-dir.js";
import type { EvaluationConfig } from "./evaluation-config.js";
import type { EvaluationPassage } from "./evaluation-passages.js";
import { writeEvaluationPlots } from "./evaluation-plots.js";
import type { EvaluationRecord } from "./evaluation-records.js";
import { type EvaluationSummary, summarizeEvaluation } from "./evaluation-summary.js";
import { checkJudgeFailures, DEFAULT_MAX_JUDGE_FAILURES, type FailureLimit } from "./judge-failures.js";
import { renderEvaluationMarkdown } from "./report.js";

/** Writes summary.json, summary.md and the plots of the run in `dir`, then applies the failure policy. */
export function finishEvaluationRun(
  dir: string,
  passages: readonly EvaluationPassage[],
  records: readonly EvaluationRecord[],
  config: EvaluationConfig,
  info: { input: string; model: string },
  maxFailures: FailureLimit = DEFAULT_MAX_JUDGE_FAILURES,
): EvaluationSummary {
  const summary = summarizeEvaluation(passages, records, config, info);
  writeEvaluationPlots(dir, summary);
  writeSummary(dir, { markdown: renderEvaluationMarkdown(summary), json: summary });
  if (summary.judgeVerdicts !== null) {
    checkJudgeFailures(
      summary.judgeVerdicts,
      maxFailures,
      `run \`seal knowledge regrade ${path.resolve(dir)}\` or rerun with --resume (failed verdicts are graded again first)`,
    );
  }
  return summary;
}
