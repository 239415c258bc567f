/** The records of `seal arc self-edit`: one line of the run's `records.jsonl` per task, keyed `task-{id}`. */
import { z } from "zod";
import type { ArcSelfEditRecord, SelfEditSamplingConfig } from "./self-edit-sampling.js";

export const SELF_EDIT_COMMAND = "arc self-edit";
export const SELF_EDIT_RECORDS = "records";
export const SELF_EDIT_FILE = "self_edits.json";

/** One line of records.jsonl: a task's self-edits. */
export interface ArcSelfEditTaskRecord extends ArcSelfEditRecord {
  seed: number;
  seconds: number;
  /** Tokens sampled over all answers, rejected ones included. */
  generatedTokens: number;
}

const rawConfigSchema = z.looseObject({
  data_generation: z.record(z.string(), z.unknown()),
  training: z.record(z.string(), z.unknown()),
});
const taskRecordSchema = z.looseObject({
  taskId: z.string(),
  prompt: z.string(),
  edits: z.array(
    z.looseObject({
      index: z.number().int(),
      response: z.string(),
      tokenIds: z.array(z.number().int()),
      config: rawConfigSchema,
    }),
  ),
  rejected: z.array(z.looseObject({ response: z.string(), reason: z.string() })),
  samples: z.number().int(),
  seed: z.number(),
  seconds: z.number(),
  generatedTokens: z.number().int(),
});

export function validateSelfEditTaskRecord(record: unknown): ArcSelfEditTaskRecord {
  return taskRecordSchema.parse(record) as ArcSelfEditTaskRecord;
}

export function selfEditTaskKey(taskId: string): string {
  return `task-${taskId}`;
}

export interface ArcSelfEditRunConfig {
  sampling: SelfEditSamplingConfig;
  /** Sequences decoded together. */
  batch: number;
}
