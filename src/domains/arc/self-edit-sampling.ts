/**
 * Sampling ARC self-edits (reference-implementation.md §2.2): the model reads a task's demonstrations and answers with
 * a JSON tool call; unparseable answers are resampled until `n` configs exist per task (or `maxSamples` answers were
 * drawn, a bound the reference lacks: a model that never writes JSON would loop there forever). Optional
 * de-duplication of configs (`--skip-repeated-configs`).
 *
 * The self-edit file is the reference's `final_configs_and_indices.json` layout,
 * `{task: {"i": {config, prompt, response, token_ids}}}`, so its own files can be read back (readArcSelfEditFile).
 */
import { z } from "zod";
import { readJsonFile } from "../../io/json-file.js";
import { parseSelfEditConfig, type RawSelfEditConfig, type SelfEditParseResult } from "./self-edit-config.js";

export interface SelfEditSamplingConfig {
  /** Configs wanted per task (15 for training tasks, 5 for evaluation in the reference). */
  n: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  /** Answers drawn per task at most, parseable or not. */
  maxSamples: number;
  skipRepeatedConfigs: boolean;
  /** Accept only a reply that is exactly one JSON value (the reference's `json.loads`). */
  strictJson: boolean;
  seed: number;
}

export const REFERENCE_SELF_EDIT_SAMPLING: Readonly<SelfEditSamplingConfig> = {
  n: 5,
  temperature: 0.8,
  topP: 1,
  maxTokens: 128,
  maxSamples: 100,
  skipRepeatedConfigs: false,
  strictJson: false,
  seed: 0,
};

/** Draws `count` answers to `prompt` with `seed`. */
export type ArcSelfEditSampler = (prompt: string, count: number, seed: number) => { text: string; tokens: number[] }[];

export interface ArcSelfEdit {
  index: number;
  response: string;
  tokenIds: number[];
  config: RawSelfEditConfig;
}

export interface ArcSelfEditRecord {
  taskId: string;
  prompt: string;
  edits: ArcSelfEdit[];
  /** Answers that were not a usable config, with why (resampled). */
  rejected: { response: string; reason: string }[];
  samples: number;
}

/** Samples self-edits for one task until `n` configs are kept or `maxSamples` answers were drawn. */
export function sampleTaskSelfEdits(
  taskId: string,
  prompt: string,
  sampler: ArcSelfEditSampler,
  config: SelfEditSamplingConfig,
  taskSeed: number,
): ArcSelfEditRecord {
  const record: ArcSelfEditRecord = { taskId, prompt, edits: [], rejected: [], samples: 0 };
  const keys = new Set<string>();
  for (let round = 0; record.edits.length < config.n && record.samples < config.maxSamples; round++) {
    const count = Math.min(config.n - record.edits.length, config.maxSamples - record.samples);
    const answers = sampler(prompt, count, taskSeed + round * 7_919);
    record.samples += answers.length;
    for (const answer of answers) {
      if (record.edits.length >= config.n) break;
      const parsed: SelfEditParseResult = parseSelfEditConfig(answer.text, { strictJson: config.strictJson });
      if (parsed.kind === "unparseable") {
        record.rejected.push({ response: answer.text, reason: parsed.reason });
        continue;
      }
      if (config.skipRepeatedConfigs && keys.has(parsed.key)) {
        record.rejected.push({ response: answer.text, reason: "repeated config" });
        continue;
      }
      keys.add(parsed.key);
      record.edits.push({
        index: record.edits.length,
        response: answer.text,
        tokenIds: answer.tokens,
        config: parsed.raw,
      });
    }
    if (answers.length === 0) break;
  }
  return record;
}

export interface ReferenceSelfEditEntry {
  config: RawSelfEditConfig;
  prompt: string;
  response: string;
  token_ids: number[];
}

/** The reference's `final_configs_and_indices.json`: `{task: {"i": {config, prompt, response, token_ids}}}`. */
export function referenceSelfEditFile(
  records: readonly ArcSelfEditRecord[],
): Record<string, Record<string, ReferenceSelfEditEntry>> {
  const out: Record<string, Record<string, ReferenceSelfEditEntry>> = {};
  for (const record of records) {
    const entries: Record<string, ReferenceSelfEditEntry> = {};
    for (const edit of record.edits)
      entries[String(edit.index)] = {
        config: edit.config,
        prompt: record.prompt,
        response: edit.response,
        token_ids: edit.tokenIds,
      };
    out[record.taskId] = entries;
  }
  return out;
}

const entrySchema = z.looseObject({
  config: z.looseObject({
    data_generation: z.record(z.string(), z.unknown()),
    training: z.record(z.string(), z.unknown()),
  }),
  prompt: z.string().optional(),
  response: z.string().optional(),
});
const fileSchema = z.record(z.string(), z.record(z.string().regex(/^\d+$/, "expected an edit index"), entrySchema));

export interface StoredSelfEdit {
  index: number;
  config: RawSelfEditConfig;
  prompt: string | null;
  response: string | null;
}

/** Reads a self-edit file (ours or the reference's) into task id → edits by index. */
export function readArcSelfEditFile(path: string): Map<string, StoredSelfEdit[]> {
  const file = readJsonFile(path, fileSchema);
  const out = new Map<string, StoredSelfEdit[]>();
  for (const [taskId, entries] of Object.entries(file)) {
    const edits = Object.entries(entries)
      .map(([index, entry]) => ({
        index: Number(index),
        config: entry.config as RawSelfEditConfig,
        prompt: entry.prompt ?? null,
        response: entry.response ?? null,
      }))
      .sort((a, b) => a.index - b.index);
    out.set(taskId, edits);
  }
  return out;
}
