/**
 * Test-time-training data for one task (reference-implementation.md §2.4, `self-edit.py` `process_task`):
 * leave-n tasks made from the demonstrations, every selected augmenter applied to each, oversized results dropped,
 * de-duplicated, then colour- and example-permuted copies, de-duplicated again, then a token-length filter and a
 * seeded cap. The reference's set-ordered steps are replaced by a deterministic order (originals first, then
 * augmenter by augmenter), so which tasks survive the cap depends only on the seed.
 */
import { Rng } from "../../engine/random.js";
import type { Augmenter } from "./augmenter.js";
import { combinations, range } from "./combinations.js";
import { type ArcTask, MAX_GRID_SIDE } from "./grid.js";
import { permuteColors, permuteExamples, shuffleInPlace } from "./permute.js";
import { dedupeBy, taskKey, taskMaxSide } from "./task-key.js";

/** One training task: demonstrations and one pseudo-test example whose output is the training target. */
export interface TttTask {
  /** The source task's id, its demonstrations, and `test`: one case with its output. */
  task: ArcTask;
  leaveN: number;
  /** How it was made, e.g. ["leave-1(test=2)", "Rotate(90)", "PermuteColors", "PermuteExamples"]. */
  recipe: string[];
}

export interface TttDataOptions {
  /** The selected augmenters (`selectAugmenters`); none selected also skips the colour permutation. */
  augmenters: readonly Augmenter[];
  leaveN: readonly number[];
  /** Colour- and example-permuted copies per task. */
  permuteN: number;
  /** The cap on tasks over all n values (the reference's Nmax). */
  maxTasks: number;
  /** Tasks whose token count is this or more are dropped. */
  maxTokens: number;
  seed: number;
  /**
   * The token count of a task's full training text (§2.5); without it no task is dropped for length. It is only
   * compared with `maxTokens`, so an upper bound below `maxTokens` does as well as the count.
   */
  tokenCount?: (task: ArcTask) => number;
}

export const TTT_DATA_DEFAULTS: Readonly<Omit<TttDataOptions, "augmenters" | "tokenCount">> = {
  leaveN: [1, 2],
  permuteN: 1,
  maxTasks: 250,
  maxTokens: 8192,
  seed: 0,
};

/** Counts at each step for one n, for records and checks. */
export interface LeaveNStats {
  n: number;
  base: number;
  /** Augmented tasks kept (≤ 30 per side) and dropped (a side over 30). */
  augmented: number;
  oversized: number;
  /** Distinct tasks among base and augmented. */
  unique: number;
  /** Distinct tasks after adding the permuted copies. */
  withPermutations: number;
  /** Dropped by the token filter. */
  overTokens: number;
  kept: number;
}

export interface TttData {
  tasks: TttTask[];
  perN: LeaveNStats[];
  /** Tasks over all n before the cap. */
  beforeCap: number;
}

/**
 * The leave-n tasks of a task's demonstrations: for each i, demonstration i is the pseudo-test and each
 * (n−1)-subset of the others is left out too (n=1: the other N−1 are the demos, N tasks; n=2: for every j ≠ i,
 * all but i and j, N(N−1) tasks). Demos keep their order.
 */
export function leaveNTasks(task: ArcTask, n: number): TttTask[] {
  const examples = task.train;
  const out: TttTask[] = [];
  for (const i of range(examples.length)) {
    const others = range(examples.length).filter((j) => j !== i);
    for (const left of combinations(others, n - 1)) {
      const demos = others.filter((j) => !left.includes(j));
      out.push({
        task: { id: task.id, train: demos.map((j) => examples[j]), test: [{ ...examples[i] }] },
        leaveN: n,
        recipe: [left.length === 0 ? `leave-1(test=${i})` : `leave-${n}(test=${i}, out=${left.join(",")})`],
      });
    }
  }
  return out;
}

const itemKey = (item: TttTask): string => taskKey(item.task);

function leaveNData(task: ArcTask, n: number, options: TttDataOptions): { tasks: TttTask[]; stats: LeaveNStats } {
  const rng = new Rng(options.seed);
  const base = leaveNTasks(task, n);
  const augmented: TttTask[] = [];
  let oversized = 0;
  for (const augmenter of options.augmenters) {
    for (const item of base) {
      const result = augmenter.applyToTask(item.task, rng);
      if (taskMaxSide(result) > MAX_GRID_SIDE) {
        oversized++;
        continue;
      }
      augmented.push({ task: result, leaveN: n, recipe: [...item.recipe, augmenter.name] });
    }
  }
  const unique = dedupeBy([...base, ...augmented], itemKey);
  const permuted: TttTask[] = [];
  for (let copy = 0; copy < options.permuteN; copy++) {
    for (const item of unique) {
      let result = item.task;
      const recipe = item.recipe.slice();
      if (options.augmenters.length > 0) {
        result = permuteColors.applyToTask(result, rng);
        recipe.push(permuteColors.name);
      }
      result = permuteExamples.applyToTask(result, rng);
      recipe.push(permuteExamples.name);
      permuted.push({ task: result, leaveN: n, recipe });
    }
  }
  const all = dedupeBy([...unique, ...permuted], itemKey);
  const { tokenCount, maxTokens } = options;
  const kept = tokenCount === undefined ? all : all.filter((item) => tokenCount(item.task) < maxTokens);
  return {
    tasks: kept,
    stats: {
      n,
      base: base.length,
      augmented: augmented.length,
      oversized,
      unique: unique.length,
      withPermutations: all.length,
      overTokens: all.length - kept.length,
      kept: kept.length,
    },
  };
}

/**
 * The TTT tasks for one task (its demonstrations only; test inputs are not used). Each n starts from a fresh
 * `Rng(seed)`, as the reference does; over the cap, the union is shuffled with another `Rng(seed)` and cut.
 */
export function buildTttData(
  task: ArcTask,
  options: Partial<TttDataOptions> & Pick<TttDataOptions, "augmenters">,
): TttData {
  const resolved: TttDataOptions = { ...TTT_DATA_DEFAULTS, ...options };
  const perN: LeaveNStats[] = [];
  let tasks: TttTask[] = [];
  for (const n of resolved.leaveN) {
    const result = leaveNData(task, n, resolved);
    perN.push(result.stats);
    tasks = tasks.concat(result.tasks);
  }
  const beforeCap = tasks.length;
  if (tasks.length > resolved.maxTasks) {
    tasks = shuffleInPlace(tasks, new Rng(resolved.seed)).slice(0, resolved.maxTasks);
  }
  return { tasks, perN, beforeCap };
}
