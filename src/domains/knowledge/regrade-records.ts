/**
 * Re-grading the failed judge verdicts of a run's record log: the answers are in the records, so only the grading
 * is redone. Changed records are written back in batches, each batch an atomic rewrite of the log
 * (`RecordLog.replaceRecords`), so a crash loses at most the verdicts of the batch in progress, never an answer.
 */
import type { RecordLog } from "../../seal/records.js";
import { type GradeSlot, isFailedGrade, regradeFailedSlots } from "./answer-grading.js";
import type { JudgeResult } from "./judge.js";
import type { JudgeSession } from "./judge-session.js";

/** How a command's records hold their grades. */
export interface GradedRecordView<T> {
  /** Every judge-graded slot of a record (pointing into that record, so updates land in it). */
  slotsOf(record: T): GradeSlot[];
  /** Recomputes what a record derives from its grades (accuracies, gains) after they changed. */
  refresh(record: T): void;
  /** Only these records are re-graded (default: all). */
  include?(record: T): boolean;
}

export interface RegradeOutcome {
  /** Failed verdicts found. */
  failed: number;
  /** Of those, graded now. */
  graded: number;
  /** Records rewritten. */
  records: number;
}

/**
 * Re-grades every failed verdict of `records` through `judge`; see the file comment. Ends early when the session
 * stops asking (the caller then calls `judge.throwIfStopped()`).
 */
export async function regradeRecordLog<T>(
  records: RecordLog<T>,
  judge: JudgeSession,
  view: GradedRecordView<T>,
  flushEveryMs = 10_000,
): Promise<RegradeOutcome> {
  const outcome: RegradeOutcome = { failed: 0, graded: 0, records: 0 };
  const asked = new Map<string, JudgeResult>();
  const pending = new Map<string, T>();
  let lastFlush = Date.now();
  const flush = () => {
    records.replaceRecords(pending);
    outcome.records += pending.size;
    pending.clear();
    lastFlush = Date.now();
  };
  try {
    for (const key of [...records.keys()]) {
      if (judge.stopReason !== null) break;
      const stored = records.get(key) as T;
      if (view.include !== undefined && !view.include(stored)) continue;
      if (!view.slotsOf(stored).some((slot) => isFailedGrade(slot.grade))) continue;
      const record = structuredClone(stored);
      const { failed, graded } = await regradeFailedSlots(view.slotsOf(record), judge, asked);
      outcome.failed += failed;
      outcome.graded += graded;
      view.refresh(record);
      pending.set(key, record);
      if (Date.now() - lastFlush >= flushEveryMs) flush();
    }
  } finally {
    if (pending.size > 0) flush();
  }
  return outcome;
}

/** On --resume: re-grades the failed verdicts first, says so, and stops the run if the judge stopped. */
export async function regradeOnResume<T>(
  records: RecordLog<T>,
  judge: JudgeSession,
  view: GradedRecordView<T>,
  log: (line: string) => void,
): Promise<void> {
  const outcome = await regradeRecordLog(records, judge, view);
  if (outcome.failed > 0) log(describeRegrade(outcome));
  judge.throwIfStopped();
}

/** "re-graded 12 failed verdicts: 10 graded now, 2 failed again". */
export function describeRegrade(outcome: RegradeOutcome): string {
  return (
    `re-graded ${outcome.failed} failed judge verdict(s): ${outcome.graded} graded now, ` +
    `${outcome.failed - outcome.graded} failed again`
  );
}
