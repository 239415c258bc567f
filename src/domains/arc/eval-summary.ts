/** The summary of a `seal arc eval` run: success rate, the best over configurations, per-task table (Markdown). */
import { type ArcEvalRecord, EVAL_COMMAND, FINAL_RESULTS_FILE, pairScoreOf } from "./eval-records.js";
import type { Grid } from "./grid.js";
import type { PredictSettings } from "./predict.js";
import { type PairScore, type SuccessRate, successRate, type TaskRow, taskRows } from "./score.js";

export interface ArcEvalSummary {
  command: typeof EVAL_COMMAND;
  mode: "adapters" | "no-adapter";
  /** How the TTT run chose its configurations (self-edits, fixed, all-configs); null for the base model. */
  tttSource: string | null;
  tasks: string[];
  edits: number[];
  instances: string[];
  pairs: number;
  finished: number;
  complete: boolean;
  /** Solved pairs over all pairs (the paper's success rate). */
  successRate: SuccessRate;
  /** Tasks solved by at least one configuration (the oracle when the configurations are a grid). */
  bestOfConfigs: { solved: number; tasks: number; rate: number; solvedTasks: string[] };
  /** Pairs scored wrong because there was no adapter (no TTT data, no configuration, or a diverged training). */
  withoutAdapter: number;
  /** Of those, pairs whose TTT training diverged (non-finite loss or gradient). */
  diverged: number;
  queries: { total: number; parsed: number; fallbacks: number };
  perTask: TaskRow[];
  scores: PairScore[];
  predict: PredictSettings;
  timing: { seconds: number };
}

export function summarizeEval(
  records: readonly ArcEvalRecord[],
  solutions: ReadonlyMap<string, Grid[]>,
  context: {
    units: number;
    taskIds: string[];
    edits: number[];
    instances: string[];
    tttSource: string | null;
    predict: PredictSettings;
  },
): ArcEvalSummary {
  const scores = records.map((record) => pairScoreOf(record, solutions.get(record.taskId)!));
  const solvedTasks = context.taskIds.filter((id) => scores.some((s) => s.taskId === id && s.correct));
  const answers = records.flatMap((r) => r.instances.flatMap((i) => i.answers));
  return {
    command: EVAL_COMMAND,
    mode: context.tttSource === null ? "no-adapter" : "adapters",
    tttSource: context.tttSource,
    tasks: context.taskIds,
    edits: context.edits,
    instances: context.instances,
    pairs: context.units,
    finished: records.length,
    complete: records.length === context.units,
    successRate: successRate(scores),
    bestOfConfigs: {
      solved: solvedTasks.length,
      tasks: context.taskIds.length,
      rate: context.taskIds.length === 0 ? 0 : solvedTasks.length / context.taskIds.length,
      solvedTasks,
    },
    withoutAdapter: records.filter((r) => r.status === "no-data" || r.status === "no-config" || r.status === "diverged")
      .length,
    diverged: records.filter((r) => r.status === "diverged").length,
    queries: {
      total: answers.length,
      parsed: answers.filter((a) => a.parsed).length,
      fallbacks: records.reduce((n, r) => n + r.instances.filter((i) => i.fallback).length, 0),
    },
    perTask: taskRows(scores),
    scores,
    predict: context.predict,
    timing: { seconds: records.reduce((sum, r) => sum + r.seconds.total, 0) },
  };
}

function percent(rate: number): string {
  return `${(100 * rate).toFixed(1)}%`;
}

export function evalSummaryMarkdown(summary: ArcEvalSummary): string {
  const { successRate: rate, bestOfConfigs: best, predict } = summary;
  const what =
    summary.mode === "no-adapter"
      ? "the base model without adapters (in-context baseline)"
      : `the adapters of a TTT run (${summary.tttSource})`;
  const bestLabel =
    summary.tttSource === "all-configs"
      ? "Oracle (a task counts when any configuration of the grid solves it)"
      : "Solved by at least one configuration";
  const lines = [
    "# ARC evaluation",
    "",
    `Evaluated: ${what}; ${summary.tasks.length} tasks, ${summary.instances.length} test inputs, ` +
      `configurations ${summary.edits.join(", ")}${summary.complete ? "" : ` (incomplete: ${summary.finished} of ${summary.pairs} pairs)`}.`,
    "",
    `**Success rate: ${rate.solved}/${rate.pairs} = ${percent(rate.rate)}** of (task, configuration) pairs ` +
      "(a pair counts only when every test input of the task is right).",
    "",
    `${bestLabel}: ${best.solved}/${best.tasks} tasks = ${percent(best.rate)}` +
      (best.solvedTasks.length > 0 ? ` (${best.solvedTasks.join(", ")}).` : "."),
    "",
    "| task | solved | rate | by configuration |",
    "|---|---:|---:|---|",
    ...summary.perTask.map((row) => {
      const marks = row.byEdit
        .map((e) => `${e.edit}:${e.correct ? "✓" : "✗"}${e.tests > 1 ? `(${e.testsCorrect}/${e.tests})` : ""}`)
        .join(" ");
      return `| ${row.taskId} | ${row.solved}/${row.edits} | ${percent(row.rate)} | ${marks} |`;
    }),
    "",
    `Pairs without an adapter (scored wrong): ${summary.withoutAdapter}` +
      `${summary.diverged > 0 ? ` (${summary.diverged} whose TTT training diverged)` : ""}. Queries answered: ${summary.queries.total}, ` +
      `${summary.queries.parsed} parsed as grids; ${summary.queries.fallbacks} test inputs needed the leave-two fallback.`,
    "",
    `Prediction: leave-n ${predict.queries.includeN.join(",")}, ${predict.queries.permuteN} extra orders, queries under ` +
      `${predict.queries.maxTokens} tokens${predict.maxQueries === null ? "" : `, at most ${predict.maxQueries} per test input`}, ` +
      `greedy answers of at most ${predict.maxNewTokens ?? "a 30×30 grid's"} tokens, vote "${predict.vote.selection ?? "reference"}".`,
    "",
    `Time: ${summary.timing.seconds.toFixed(1)} s. The reference's layout of these results: \`${FINAL_RESULTS_FILE}\`.`,
  ];
  return lines.join("\n");
}
