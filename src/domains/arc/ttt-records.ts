/**
 * The records of `seal arc ttt`: one line of the run's `records.jsonl` per (task, configuration) inner loop, keyed
 * `task-{id}/edit-{i}`, appended after the adapter is in place under `adapters/{task}/{i}/`.
 */
import path from "node:path";
import { z } from "zod";
import type { RawSelfEditConfig } from "./self-edit-config.js";
import type { TttOutcome } from "./ttt.js";

export const TTT_COMMAND = "arc ttt";
export const TTT_RECORDS = "records";
export const ADAPTERS_DIR = "adapters";

/** The adapter folder of a unit, relative to the run folder. */
export function adapterPath(taskId: string, edit: number): string {
  return path.join(ADAPTERS_DIR, taskId, String(edit));
}

/** One line of records.jsonl: one (task, configuration) inner loop. */
export interface ArcTttRecord {
  key: string;
  taskId: string;
  edit: number;
  /** The configuration as given (the self-edit's JSON, or the hand-chosen one). */
  config: RawSelfEditConfig;
  /** The adapter folder relative to the run folder; null when the TTT data was empty or training diverged. */
  adapter: string | null;
  outcome: TttOutcome;
  seconds: { data: number; train: number; save: number; total: number };
}

const recordSchema = z.looseObject({
  key: z.string(),
  taskId: z.string(),
  edit: z.number().int().nonnegative(),
  config: z.looseObject({
    data_generation: z.record(z.string(), z.unknown()),
    training: z.record(z.string(), z.unknown()),
  }),
  adapter: z.string().nullable(),
  outcome: z.looseObject({
    status: z.enum(["trained", "zero-effect", "no-data", "diverged"]),
    valid: z.boolean(),
    reason: z.string().nullable(),
    examples: z.number().int(),
    steps: z.number().int(),
    losses: z.array(z.number()),
  }),
  seconds: z.looseObject({ total: z.number() }),
});

export function validateTttRecord(record: unknown): ArcTttRecord {
  return recordSchema.parse(record) as unknown as ArcTttRecord;
}
