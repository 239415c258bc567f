/**
 * The records of `seal knowledge evaluate`: one line of the run's `records.jsonl` per inner loop, keyed
 * `passage-{i}/edit-{j}/repeat-{r}` (i = the record's index in the input file); a resumed run skips finished keys.
 *
 * Every record of a passage carries the same baseline answers and grades (computed once per passage).
 *
 * Difference from the reference, on purpose: the inner loop's seed is derived from `--seed` and the record's key
 * (the reference seeds from the clock), so a run is reproducible and a resumed run equals an uninterrupted one.
 */
import { z } from "zod";
import type { DivergenceRecord } from "../../engine/divergence.js";
import { sha256Hex } from "../../seal/fingerprint.js";
import type { AnswerGrade } from "./answer-grading.js";

/** The record log of an evaluation run (`records.jsonl` in the run folder). */
export const EVALUATION_RECORDS = "records";

export function recordKey(passage: number, edit: number, repeat: number): string {
  return `passage-${passage}/edit-${edit}/repeat-${repeat}`;
}

/** The inner loop's seed: a 32-bit number derived from the run's seed and the record's key. */
export function innerLoopSeed(seed: number, key: string): number {
  return Number.parseInt(sha256Hex(`${seed}/${key}`).slice(0, 8), 16);
}

export interface QuestionResult {
  question: string;
  gold: string;
  baselineAnswer: string;
  baselineGrade: AnswerGrade;
  adaptedAnswer: string;
  adaptedGrade: AnswerGrade;
}

/** One line of records.jsonl: one inner loop. */
export interface EvaluationRecord {
  key: string;
  passage: number;
  edit: number;
  repeat: number;
  title: string;
  /** The inner loop's seed (derived from --seed and the key). */
  seed: number;
  /** False in no-update mode: nothing was trained, adapted answers are the baseline's. */
  update: boolean;
  /** True when the self-edit is empty after strip(): training on the passage alone. */
  passageOnly: boolean;
  selfEdit: string;
  sequences: string[];
  /** Tokens of each training sequence. */
  sequenceTokens: number[];
  questions: QuestionResult[];
  baselineAccuracy: number | null;
  adaptedAccuracy: number | null;
  /** adapted − baseline (null when either is null). */
  gain: number | null;
  /** Null with no update, and when the inner loop diverged (then `divergence` says where). */
  training: {
    steps: number;
    stepLosses: number[];
    firstEpochLoss: number;
    lastEpochLoss: number;
    /** Tokens trained over all epochs. */
    trainTokens: number;
  } | null;
  /**
   * Present when the inner loop's training diverged (a non-finite loss or gradient): no adapter was used, every
   * adapted answer is empty and graded wrong (zero reward).
   */
  divergence?: DivergenceRecord;
  timings: {
    /** Seconds spent answering and grading the baseline for this record (0 when reused). */
    baselineSeconds: number;
    trainSeconds: number;
    answerSeconds: number;
    gradeSeconds: number;
    totalSeconds: number;
  };
}

const gradeSchema = z.looseObject({
  correct: z.boolean().nullable(),
  exactMatch: z.number(),
  f1: z.number(),
  contains: z.boolean(),
  empty: z.boolean(),
});
const recordSchema = z.looseObject({
  key: z.string(),
  passage: z.number().int().nonnegative(),
  edit: z.number().int().nonnegative(),
  repeat: z.number().int().nonnegative(),
  title: z.string(),
  update: z.boolean(),
  passageOnly: z.boolean(),
  selfEdit: z.string(),
  sequences: z.array(z.string()),
  questions: z.array(
    z.looseObject({
      question: z.string(),
      gold: z.string(),
      baselineAnswer: z.string(),
      baselineGrade: gradeSchema,
      adaptedAnswer: z.string(),
      adaptedGrade: gradeSchema,
    }),
  ),
  baselineAccuracy: z.number().nullable(),
  adaptedAccuracy: z.number().nullable(),
});

/** Checks one line of records.jsonl when the log is opened (errors name the fields). */
export function validateEvaluationRecord(value: unknown): EvaluationRecord {
  const result = recordSchema.safeParse(value);
  if (!result.success) {
    throw new Error(result.error.issues.map((issue) => `field "${issue.path.join(".")}": ${issue.message}`).join("; "));
  }
  return result.data as unknown as EvaluationRecord;
}
