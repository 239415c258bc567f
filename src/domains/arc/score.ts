/**
 * ARC scoring (reference-implementation.md §2.6, §2.8; `arclib/eval.py`): a test input is correct when either
 * attempt equals its solution exactly; a task is correct for one self-edit only when all its test inputs were
 * submitted and are correct; the success rate is solved (task, edit) pairs over all pairs.
 *
 * The reference pads a task's missing lower test indices with `[[0]]` attempts; here a missing one is simply not
 * submitted. Both make the task wrong (unless a solution were `[[0]]`, which none of ARC's is).
 */
import { type Grid, gridsEqual } from "./grid.js";

/** What the reference submits for a test input with no usable prediction. */
export const PLACEHOLDER_ATTEMPT: Grid = [[0]];

export function testInputCorrect(attempts: readonly Grid[] | null | undefined, solution: Grid): boolean {
  return attempts?.some((attempt) => gridsEqual(attempt, solution)) ?? false;
}

/** One (task, self-edit) pair's outcome. */
export interface PairScore {
  taskId: string;
  edit: number;
  /** Per test input, in order: submitted and correct. */
  tests: boolean[];
  /** Attempts were given for every test input, and for no other. */
  allSubmitted: boolean;
  correct: boolean;
}

/**
 * Scores one pair. `attempts[i]` are the attempts for test input i (null or absent: not submitted), `solutions[i]`
 * its solution.
 */
export function scorePair(
  taskId: string,
  edit: number,
  solutions: readonly Grid[],
  attempts: readonly (readonly Grid[] | null | undefined)[],
): PairScore {
  const tests = solutions.map((solution, i) => testInputCorrect(attempts[i], solution));
  const allSubmitted = attempts.length === solutions.length && attempts.every((a) => a != null);
  return { taskId, edit, tests, allSubmitted, correct: allSubmitted && tests.every(Boolean) };
}

export interface SuccessRate {
  solved: number;
  pairs: number;
  /** solved / pairs; 0 when there are no pairs. */
  rate: number;
}

function checkUniquePairs(scores: readonly PairScore[]): void {
  const seen = new Set<string>();
  for (const { taskId, edit } of scores) {
    const key = JSON.stringify([taskId, edit]);
    if (seen.has(key)) throw new Error(`ARC scores: task ${taskId} edit ${edit} is scored twice`);
    seen.add(key);
  }
}

export function successRate(scores: readonly PairScore[]): SuccessRate {
  checkUniquePairs(scores);
  const solved = scores.filter((s) => s.correct).length;
  return { solved, pairs: scores.length, rate: scores.length === 0 ? 0 : solved / scores.length };
}

/** One row of the per-task table. */
export interface TaskRow {
  taskId: string;
  edits: number;
  solved: number;
  rate: number;
  /** Each edit's outcome, by ascending edit index. */
  byEdit: { edit: number; correct: boolean; testsCorrect: number; tests: number }[];
}

/** Per-task rows, tasks in ascending id order. */
export function taskRows(scores: readonly PairScore[]): TaskRow[] {
  checkUniquePairs(scores);
  const byTask = new Map<string, PairScore[]>();
  for (const score of scores) {
    const list = byTask.get(score.taskId);
    if (list) list.push(score);
    else byTask.set(score.taskId, [score]);
  }
  return [...byTask.keys()].sort().map((taskId) => {
    const list = byTask
      .get(taskId)!
      .slice()
      .sort((a, b) => a.edit - b.edit);
    const solved = list.filter((s) => s.correct).length;
    return {
      taskId,
      edits: list.length,
      solved,
      rate: solved / list.length,
      byEdit: list.map((s) => ({
        edit: s.edit,
        correct: s.correct,
        testsCorrect: s.tests.filter(Boolean).length,
        tests: s.tests.length,
      })),
    };
  });
}

/** The reference's `final_results.json`: `{"<edit>": {"task_id": {"0": id, …}, "correct": {"0": bool, …}}}`, tasks
 *  in ascending id order within each edit (its submission is sorted by task name). */
export type ReferenceFinalResults = Record<
  string,
  { task_id: Record<string, string>; correct: Record<string, boolean> }
>;

export function referenceFinalResults(scores: readonly PairScore[]): ReferenceFinalResults {
  checkUniquePairs(scores);
  const edits = [...new Set(scores.map((s) => s.edit))].sort((a, b) => a - b);
  const out: ReferenceFinalResults = {};
  for (const edit of edits) {
    const rows = scores.filter((s) => s.edit === edit).sort((a, b) => (a.taskId < b.taskId ? -1 : 1));
    const entry = { task_id: {} as Record<string, string>, correct: {} as Record<string, boolean> };
    rows.forEach((s, i) => {
      entry.task_id[String(i)] = s.taskId;
      entry.correct[String(i)] = s.correct;
    });
    out[String(edit)] = entry;
  }
  return out;
}
