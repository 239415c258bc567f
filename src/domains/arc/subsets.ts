/**
 * The reference's ARC file names and task subsets (reference-implementation.md §2.1), hard-coded as the spec
 * asks: the effective lists come from numpy's seeded shuffle, which is not re-implemented here.
 */

/** The reference's file names in `few-shot/data/`. */
export const ARC_FILES = {
  trainingChallenges: "arc-agi_training_challenges.json",
  trainingSolutions: "arc-agi_training_solutions.json",
  evaluationChallenges: "arc-agi_evaluation_challenges.json",
  evaluationSolutions: "arc-agi_evaluation_solutions.json",
  /** `filter_dataset.py`'s 1B training subset (TRAIN_SUBSET_1B). */
  trainingSubsetChallenges: "arc-agi_training_challenges_filtered_1B_training_set.json",
  trainingSubsetSolutions: "arc-agi_training_solutions_filtered_1B_training_set.json",
  /** `filter_dataset.py`'s 1B evaluation subset (EVAL_SUBSET_1B). */
  evaluationSubsetChallenges: "arc-agi_evaluation_challenges_filtered_1B_eval_set.json",
  evaluationSubsetSolutions: "arc-agi_evaluation_solutions_filtered_1B_eval_set.json",
} as const;

/** `filter_dataset.py`'s training subset for the 1B model: 12 tasks, 13 test inputs (44f52bb0 has 2), file order. */
export const TRAIN_SUBSET_1B: readonly string[] = [
  "44f52bb0",
  "4be741c5",
  "5582e5ca",
  "5614dbcf",
  "5bd6f4ac",
  "6150a2bd",
  "67e8384a",
  "6d0aefbc",
  "6e02f1e3",
  "8be77c9e",
  "8d5021e8",
  "8e1813be",
];

/** `filter_dataset.py`'s evaluation subset: 10 tasks, 11 test inputs (b1fc8b8e has 2), file order. */
export const EVAL_SUBSET_1B: readonly string[] = [
  "358ba94e",
  "59341089",
  "66e6c45b",
  "68b67ca3",
  "903d1b4a",
  "af24b4cc",
  "b1fc8b8e",
  "bc4146bd",
  "c7d4e6ad",
  "ce8d95cc",
];

/**
 * Tasks that get self-edits with the README's `self-edit.py --n_tasks 12`: the first 12 test-input entries of the
 * training subset, skipping `-1` entries, so 11 tasks (8e1813be, the 13th entry, is dropped).
 */
export const TRAIN_SELF_EDIT_TASKS_1B: readonly string[] = TRAIN_SUBSET_1B.slice(0, 11);

/** The same with `--n_tasks 10` on the evaluation subset: 9 tasks (ce8d95cc, the 11th entry, is dropped). */
export const EVAL_SELF_EDIT_TASKS_1B: readonly string[] = EVAL_SUBSET_1B.slice(0, 9);

/**
 * The test inputs `eval-self-edits.py --num_examples 9` evaluates on the evaluation subset
 * (`np.random.seed(0); np.random.shuffle(instances)[:9]`, order kept): 9 test inputs of 8 tasks. ce8d95cc is
 * among them but has no self-edit (see EVAL_SELF_EDIT_TASKS_1B), so the reference always scores it wrong.
 */
export const EVAL_INSTANCES_1B: readonly string[] = [
  "903d1b4a-0",
  "c7d4e6ad-0",
  "66e6c45b-0",
  "ce8d95cc-0",
  "b1fc8b8e-0",
  "59341089-0",
  "b1fc8b8e-1",
  "bc4146bd-0",
  "68b67ca3-0",
];

/** The 8 evaluation tasks of EVAL_INSTANCES_1B, in first-appearance order. */
export const EVAL_TASKS_1B: readonly string[] = [
  "903d1b4a",
  "c7d4e6ad",
  "66e6c45b",
  "ce8d95cc",
  "b1fc8b8e",
  "59341089",
  "bc4146bd",
  "68b67ca3",
];

/**
 * The test inputs `--num_examples 11` evaluates on the training subset (same seeded shuffle): 11 test inputs of
 * 10 tasks (5bd6f4ac and 8e1813be are left out).
 */
export const TRAIN_EVAL_INSTANCES_1B: readonly string[] = [
  "6150a2bd-0",
  "8d5021e8-0",
  "5614dbcf-0",
  "8be77c9e-0",
  "4be741c5-0",
  "6d0aefbc-0",
  "44f52bb0-1",
  "67e8384a-0",
  "6e02f1e3-0",
  "5582e5ca-0",
  "44f52bb0-0",
];
