/** Per-version accuracy from its stored probe evaluations: what the dashboard and /v1/memory/versions show. */
import type { ProbeEvaluation } from "../domains/memory/types.js";

export interface AccuracyCount {
  correct: number;
  total: number;
  /** null when no probe was evaluated. */
  accuracy: number | null;
}

export interface VersionEvaluationSummary {
  /** Probes of the documents this version's consolidation added, before (the parent) and after (this version). */
  new: { before: AccuracyCount; after: AccuracyCount };
  /** Probes of documents consolidated earlier: the forgetting check. */
  earlier: { before: AccuracyCount; after: AccuracyCount };
  /** Earlier-document accuracy lost (before − after); null without earlier probes. */
  forgetting: number | null;
}

function accuracyOf(rows: readonly ProbeEvaluation[]): AccuracyCount {
  const correct = rows.filter((row) => row.correct).length;
  return { correct, total: rows.length, accuracy: rows.length === 0 ? null : correct / rows.length };
}

export function summarizeEvaluations(rows: readonly ProbeEvaluation[]): VersionEvaluationSummary {
  const pick = (group: ProbeEvaluation["group"], phase: ProbeEvaluation["phase"]) =>
    accuracyOf(rows.filter((row) => row.group === group && row.phase === phase));
  const earlier = { before: pick("earlier", "before"), after: pick("earlier", "after") };
  const forgetting =
    earlier.before.accuracy === null || earlier.after.accuracy === null
      ? null
      : earlier.before.accuracy - earlier.after.accuracy;
  return { new: { before: pick("new", "before"), after: pick("new", "after") }, earlier, forgetting };
}
