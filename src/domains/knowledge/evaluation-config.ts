/**
 * The configuration of `seal knowledge evaluate` (stored in run.json; a resume must match it): what is evaluated,
 * how many self-edits and inner loops each passage gets, which records of the input file, and the inner-loop settings
 * shared with the other knowledge commands.
 *
 * Baselines: `passages-only` trains on an empty self-edit (the passage alone, the reference's "naive" run) and
 * `no-update` evaluates the base model only (no training; adapted = baseline).
 */
import { defaultInnerLoopConfig, type InnerLoopConfig } from "./inner-loop-config.js";

/** The command name stored in an evaluation's run.json. */
export const EVALUATE_COMMAND = "knowledge evaluate";

/** What is evaluated: self-edits from a file, an empty self-edit (passage only), or the base model alone. */
export type EvaluationMode = "self-edits" | "passages-only" | "no-update";

/** The full resolved configuration of an evaluation (stored in run.json; a resume must match it). */
export interface EvaluationConfig extends InnerLoopConfig {
  mode: EvaluationMode;
  /** Self-edits evaluated per passage: the first `completions` of each record (1 in the baseline modes). */
  completions: number;
  /** Independent inner loops (fresh adapter, own seed) per self-edit. */
  repeats: number;
  /** First record of the input file, and how many records from there. */
  start: number;
  limit: number;
}

/** The reference's settings (§1.4–1.6) for everything the command line does not set. */
export function defaultEvaluationConfig(overrides: Partial<EvaluationConfig> = {}): EvaluationConfig {
  return {
    mode: "self-edits",
    completions: 1,
    repeats: 1,
    start: 0,
    limit: 200,
    ...defaultInnerLoopConfig(),
    ...overrides,
  };
}

/** Inner loops per passage: self-edits × repeats (one per passage without an update). */
export function innerLoopsPerPassage(config: EvaluationConfig): number {
  return config.mode === "no-update" ? 1 : config.completions * config.repeats;
}
