/**
 * The records of `seal arc eval`: one line of the run's `records.jsonl` per (task, configuration) pair, keyed
 * `task-{id}/edit-{i}`, with each evaluated test input's answers and voted attempts; a pair's score is computed from
 * its record and the solutions (score.ts), so the summary can always be recomputed from the records.
 */
import { z } from "zod";
import type { Grid } from "./grid.js";
import { type PairScore, scorePair } from "./score.js";

export const EVAL_COMMAND = "arc eval";
export const EVAL_RECORDS = "records";
export const FINAL_RESULTS_FILE = "final_results.json";

/** What a pair was evaluated with. */
export type ArcEvalAdapterStatus = "trained" | "zero-effect" | "no-data" | "diverged" | "no-config" | "base-model";

export interface ArcEvalAnswer {
  augmenter: string;
  inverter: string;
  leaveN: number;
  promptTokens: number;
  text: string;
  finishReason: string;
  /** The answer parsed as a grid. */
  parsed: boolean;
}

export interface ArcEvalInstance {
  name: string;
  testIndex: number;
  queries: number;
  fallback: boolean;
  /** The two voted attempts; null when no answer parsed (not submitted). */
  attempts: Grid[] | null;
  correct: boolean;
  answers: ArcEvalAnswer[];
}

/** One line of records.jsonl: one (task, configuration) pair. */
export interface ArcEvalRecord {
  key: string;
  taskId: string;
  edit: number;
  status: ArcEvalAdapterStatus;
  /** The adapter folder used (absolute), or null. */
  adapter: string | null;
  /** The evaluated test inputs of the task (none when there was no adapter to evaluate). */
  instances: ArcEvalInstance[];
  correct: boolean;
  seconds: { predict: number; total: number };
}

const gridSchema = z.array(z.array(z.number()));
const recordSchema = z.looseObject({
  key: z.string(),
  taskId: z.string(),
  edit: z.number().int().nonnegative(),
  status: z.enum(["trained", "zero-effect", "no-data", "diverged", "no-config", "base-model"]),
  adapter: z.string().nullable(),
  instances: z.array(
    z.looseObject({
      name: z.string(),
      testIndex: z.number().int().nonnegative(),
      attempts: z.array(gridSchema).nullable(),
      correct: z.boolean(),
      answers: z.array(z.looseObject({ text: z.string(), parsed: z.boolean() })),
    }),
  ),
  correct: z.boolean(),
  seconds: z.looseObject({ total: z.number() }),
});

export function validateEvalRecord(record: unknown): ArcEvalRecord {
  return recordSchema.parse(record) as unknown as ArcEvalRecord;
}

/** The pair's score from its record: attempts per test input of the task (null where not evaluated). */
export function pairScoreOf(record: ArcEvalRecord, solutions: readonly Grid[]): PairScore {
  const attempts: (Grid[] | null)[] = solutions.map(() => null);
  for (const instance of record.instances) attempts[instance.testIndex] = instance.attempts;
  return scorePair(record.taskId, record.edit, solutions, attempts);
}
