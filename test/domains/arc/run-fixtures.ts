/**
 * Fixtures for the `seal arc` run tests: a tiny random Llama model with the Llama 3.2 Instruct tokenizer, three
 * small real training tasks of the reference's data written to their own challenges/solutions files, self-edit
 * files in the reference's layout, and summaries without their timing.
 */
import fs from "node:fs";
import path from "node:path";
import { type PredictSettings, REFERENCE_PREDICT } from "../../../src/domains/arc/predict.js";
import type { RawSelfEditConfig } from "../../../src/domains/arc/self-edit-config.js";
import { REFERENCE_TTT, type TttSettings } from "../../../src/domains/arc/ttt.js";
import { seal } from "../../cli/cli-fixtures.js";
import { tempDir } from "../../io/fixtures.js";
import { llama32TokenizerDir } from "../../io/llama32-tokenizer.js";
import { arcDataPath, exists } from "./shared-data.js";

/**
 * Small grids (3×3 and 1×1 outputs): 6150a2bd has 2 demonstrations, 5582e5ca 3, and 44f52bb0 6 with two test
 * inputs (so a task is right only when both are). All three are in the reference's 1B training subset.
 */
export const ARC_TEST_TASKS = ["6150a2bd", "5582e5ca", "44f52bb0"] as const;

const CHALLENGES = arcDataPath("arc-agi_training_challenges.json");
const SOLUTIONS = arcDataPath("arc-agi_training_solutions.json");

/** Why the run tests cannot run here, or null. */
export function arcDataMissing(): string | null {
  return exists(CHALLENGES) && exists(SOLUTIONS) ? null : `no reference ARC data at ${CHALLENGES}`;
}

export interface ArcFixture {
  root: string;
  challenges: string;
  solutions: string;
}

/** A temp folder with challenges.json and solutions.json holding ARC_TEST_TASKS only. */
export function writeArcFixture(prefix: string): ArcFixture {
  const root = tempDir(prefix);
  const challenges = JSON.parse(fs.readFileSync(CHALLENGES, "utf8")) as Record<string, unknown>;
  const solutions = JSON.parse(fs.readFileSync(SOLUTIONS, "utf8")) as Record<string, unknown>;
  const pick = (all: Record<string, unknown>) => Object.fromEntries(ARC_TEST_TASKS.map((id) => [id, all[id]]));
  const fixture = {
    root,
    challenges: path.join(root, "challenges.json"),
    solutions: path.join(root, "solutions.json"),
  };
  fs.writeFileSync(fixture.challenges, JSON.stringify(pick(challenges)));
  fs.writeFileSync(fixture.solutions, JSON.stringify(pick(solutions)));
  return fixture;
}

/** `seal model create --preset tiny-llama` with the Llama 3.2 tokenizer (room for 4096 positions) in `root/model`. */
export function createTinyLlama(root: string): string {
  const model = path.join(root, "model");
  seal([
    "model",
    "create",
    "--preset",
    "tiny-llama",
    "--tokenizer",
    llama32TokenizerDir(),
    "--out",
    model,
    "--seed",
    "1",
    "--max-positions",
    "4096",
  ]);
  return model;
}

export function config(
  families: { basic?: boolean; size?: boolean; chain?: boolean; repeat?: boolean },
  strategy: string,
  learningRate: number,
  epochs: number,
): RawSelfEditConfig {
  return {
    data_generation: {
      use_basic_augmentations: families.basic ?? false,
      use_size_augmentations: families.size ?? false,
      use_chain_augmentations: families.chain ?? false,
      use_repeat_augmentations: families.repeat ?? false,
    },
    training: { strategy, learning_rate: learningRate, num_train_epochs: epochs },
  };
}

/** Trains: basic augmentations, output-token loss, lr 1e-2, one epoch. */
export const TRAINING_CONFIG = config({ basic: true }, "train_using_output_tokens", 1e-2, 1);
/** Trains on every token, no augmentations. */
export const ALL_TOKENS_CONFIG = config({}, "train_using_all_tokens", 1e-2, 1);
/** Invalid (augmentation keys missing): a zero-effect adapter, as in the reference. */
export const INVALID_CONFIG: RawSelfEditConfig = {
  data_generation: { use_basic_augmentations: true },
  training: { strategy: "train_using_output_tokens", learning_rate: 1e-3, num_train_epochs: 1 },
};

/** Writes a self-edit file in the reference's layout: task → edit index → {config, prompt, response, token_ids}. */
export function writeSelfEditFile(file: string, edits: Record<string, RawSelfEditConfig[]>): void {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [taskId, configs] of Object.entries(edits))
    out[taskId] = Object.fromEntries(
      configs.map((c, i) => [
        String(i),
        { config: c, prompt: `<|begin_of_text|>prompt of ${taskId}`, response: JSON.stringify(c), token_ids: [1, 2] },
      ]),
    );
  fs.writeFileSync(file, JSON.stringify(out));
}

/** summary.json without its `timing` (the only part that differs between equal runs). */
export function summaryWithoutTiming(dir: string): Record<string, unknown> {
  const { timing: _timing, ...rest } = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"));
  return rest;
}

/** The records of a run's records.jsonl (the `record` field of each line). */
export function readRecords<T>(dir: string): T[] {
  const file = path.join(dir, "records.jsonl");
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => (JSON.parse(line) as { record: T }).record);
}

/** The reference's TTT settings made small for a tiny model: rank 8, at most 4 examples, no warmup. */
export function quickTttSettings(): TttSettings {
  return {
    ...REFERENCE_TTT,
    lora: { ...REFERENCE_TTT.lora, rank: 8 },
    warmupSteps: 0,
    data: { ...REFERENCE_TTT.data, maxTasks: 4 },
  };
}

/** The reference's prediction settings made small: no extra orders, 3 queries, 16 answer tokens. */
export function quickPredictSettings(): PredictSettings {
  return {
    ...REFERENCE_PREDICT,
    queries: { ...REFERENCE_PREDICT.queries, permuteN: 0 },
    maxQueries: 3,
    maxNewTokens: 16,
  };
}

/** A progress stream that drops everything (JSONL progress would clutter the test output). */
export const SILENT = { write: () => true, isTTY: false };
