/**
 * Names the `seal arc` commands accept for the reference's hard-coded task lists (subsets.ts): `--subset` picks
 * the tasks a README run makes self-edits for, `--eval-instances` the test inputs a README evaluation scores.
 */
import {
  EVAL_INSTANCES_1B,
  EVAL_SELF_EDIT_TASKS_1B,
  TRAIN_EVAL_INSTANCES_1B,
  TRAIN_SELF_EDIT_TASKS_1B,
} from "./subsets.js";

/** `--subset` names: the tasks the reference's README runs get self-edits for. */
export const ARC_SUBSETS: Readonly<Record<string, readonly string[]>> = {
  "train-1b": TRAIN_SELF_EDIT_TASKS_1B,
  "eval-1b": EVAL_SELF_EDIT_TASKS_1B,
};

/** `--eval-instances` names: the test inputs the reference's README evaluations score (its seeded shuffle). */
export const ARC_INSTANCE_SETS: Readonly<Record<string, readonly string[]>> = {
  "train-1b": TRAIN_EVAL_INSTANCES_1B,
  "eval-1b": EVAL_INSTANCES_1B,
};

/** Self-edits per task the reference samples: 15 for its training tasks, 5 for evaluation. */
export function referenceSelfEditsPerTask(subset: string | undefined): number {
  return subset === "train-1b" ? 15 : 5;
}
