/**
 * The failure policy of judge-graded runs: failed verdicts are left out of every accuracy, and a run with more of
 * them than `--max-judge-failures` allows (a count, or a fraction of the run's verdicts; default 5%) ends with an
 * error that gives the count and the way to finish the grading, after its summary is written. A run whose
 * accuracies rest on a fraction of its questions must not pass for a finished one.
 */

/** At most `value` failed verdicts (count), or at most `value` × the run's verdicts (fraction, 0..1). */
export type FailureLimit = { kind: "count"; value: number } | { kind: "fraction"; value: number };

export const DEFAULT_MAX_JUDGE_FAILURES: FailureLimit = { kind: "fraction", value: 0.05 };

/** How a run grades its failed verdicts again (the ending of a failure message). */
export const RESUME_TO_REGRADE = "rerun the same command with --resume (failed verdicts are graded again first)";

/** The judge verdicts of a run: how many were asked for, how many failed, and the last failure's error. */
export interface VerdictCounts {
  total: number;
  failed: number;
  lastError?: string;
}

export function describeFailureLimit(limit: FailureLimit): string {
  return limit.kind === "count" ? String(limit.value) : `${+(limit.value * 100).toFixed(4)}%`;
}

export function exceedsFailureLimit(counts: VerdictCounts, limit: FailureLimit): boolean {
  return limit.kind === "count" ? counts.failed > limit.value : counts.failed > limit.value * counts.total;
}

/** A run ended with more failed verdicts than allowed; its summary is written and its answers kept. */
export class JudgeFailuresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JudgeFailuresError";
  }
}

/** "3 of 40 judge verdicts failed (7.50%)". */
export function describeVerdictCounts(counts: VerdictCounts): string {
  const percent = counts.total === 0 ? 0 : (100 * counts.failed) / counts.total;
  return `${counts.failed} of ${counts.total} judge verdicts failed (${percent.toFixed(2)}%)`;
}

/**
 * Throws `JudgeFailuresError` when `counts` exceed `limit`; `hint` says how to grade the failed verdicts again
 * (e.g. "rerun with --resume").
 */
export function checkJudgeFailures(
  counts: VerdictCounts,
  limit: FailureLimit = DEFAULT_MAX_JUDGE_FAILURES,
  hint = RESUME_TO_REGRADE,
): void {
  if (!exceedsFailureLimit(counts, limit)) return;
  throw new JudgeFailuresError(
    `${describeVerdictCounts(counts)}, more than --max-judge-failures ${describeFailureLimit(limit)} allows` +
      (counts.lastError === undefined ? "" : ` (last error: ${counts.lastError})`) +
      `. The answers are kept and the summary is written with the failed verdicts left out of the accuracies; ` +
      `fix the judge, then ${hint}.`,
  );
}
