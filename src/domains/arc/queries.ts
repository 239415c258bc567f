/**
 * The prediction queries for one test input (reference-implementation.md §2.6, `inference/preprocess.py`):
 * leave-n variants of the real task with the real test input, extra example orders, and five geometric
 * transforms of randomly chosen variants, each carrying the inverse that maps its prediction back.
 * De-duplication keeps the first of equal queries in a fixed order (transformed ones first, as the reference
 * lists them) instead of Python's set order.
 */
import { Rng } from "../../engine/random.js";
import { flip, type GridAugmenter, IDENTITY_NAME, inverseAugmenter, rotate, transposeAugmenter } from "./augment.js";
import { combinations, range } from "./combinations.js";
import type { ArcTask } from "./grid.js";
import { permuteExamples } from "./permute.js";
import { dedupeBy, taskKey } from "./task-key.js";

export interface ArcQuery {
  /**
   * The demonstrations and the one test input in the query's frame (transformed when `augmenter` is set). The
   * test case has its output when the instance had one, transformed likewise.
   */
  task: ArcTask;
  /** How many demonstrations were left out. */
  leaveN: number;
  /** The transform applied to the whole variant; "Identity" for none. */
  augmenter: string;
  /**
   * The transform that maps a prediction back (the reference's `inverter`, e.g. "Rotate(270)"; "Identity" where
   * the reference has None): apply it with `applyInverter`, vote by it (vote.ts).
   */
  inverter: string;
}

export interface QueryOptions {
  /** Leave-n values; when every query is too long, the next n (last + 1) is added and the filter re-run. */
  includeN: readonly number[];
  /** Extra example orders per variant. */
  permuteN: number;
  seed: number;
  /** Queries whose token count is this or more are dropped. */
  maxTokens: number;
  /**
   * The token count of a query (the reference counts the chat text with the test output in place, which is the
   * true solution when solutions were loaded); without it no query is dropped.
   */
  tokenCount?: (query: ArcQuery) => number;
}

export const QUERY_DEFAULTS: Readonly<Omit<QueryOptions, "tokenCount">> = {
  includeN: [1],
  permuteN: 2,
  seed: 0,
  maxTokens: 8192,
};

/** The transforms applied to one random variant each, in the reference's order. */
export const QUERY_AUGMENTERS: readonly GridAugmenter[] = [
  transposeAugmenter,
  flip(0),
  flip(1),
  rotate(90),
  rotate(180),
];

export interface QuerySet {
  queries: ArcQuery[];
  /** True when no query of `includeN` fitted and the next n was added. */
  fallback: boolean;
}

const queryKey = (query: ArcQuery): string => taskKey(query.task);

/** The queries for one n (each n draws from its own `Rng(seed)`, as in the reference). */
export function leaveNQueries(instance: ArcTask, n: number, permuteN: number, seed: number): ArcQuery[] {
  if (instance.test.length !== 1) {
    throw new Error(
      `task ${instance.id}: a query set is made per test input; expand the task first (expandTestInputs)`,
    );
  }
  const rng = new Rng(seed);
  const indices = range(instance.train.length);
  const variants: ArcQuery[] = [];
  for (const left of combinations(indices, n)) {
    const demos = indices.filter((i) => !left.includes(i)).map((i) => instance.train[i]);
    const variant: ArcQuery = {
      task: { ...instance, train: demos },
      leaveN: n,
      augmenter: IDENTITY_NAME,
      inverter: IDENTITY_NAME,
    };
    variants.push(variant);
    for (let copy = 0; copy < permuteN; copy++) {
      variants.push({ ...variant, task: permuteExamples.applyToTask(variant.task, rng) });
    }
  }
  const unique = dedupeBy(variants, queryKey);
  if (unique.length === 0) return [];
  const uniqueKeys = new Set(unique.map(queryKey));
  const transformed: ArcQuery[] = [];
  for (const augmenter of QUERY_AUGMENTERS) {
    const chosen = unique[rng.int(unique.length)];
    const task = augmenter.applyToTask(chosen.task);
    // the transform left the variant unchanged (a symmetric task): nothing new to ask
    if (uniqueKeys.has(taskKey(task))) continue;
    const inverter = inverseAugmenter(augmenter.name)!.name;
    transformed.push({ task, leaveN: n, augmenter: augmenter.name, inverter });
  }
  return dedupeBy([...transformed, ...unique], queryKey);
}

function queriesFor(instance: ArcTask, includeN: readonly number[], options: QueryOptions): ArcQuery[] {
  const queries = includeN.flatMap((n) => leaveNQueries(instance, n, options.permuteN, options.seed));
  const { tokenCount, maxTokens } = options;
  return tokenCount === undefined ? queries : queries.filter((query) => tokenCount(query) < maxTokens);
}

/** The query set of one instance (one test input, see `expandTestInputs`). Empty when nothing fits. */
export function buildQueries(instance: ArcTask, options: Partial<QueryOptions> = {}): QuerySet {
  const resolved: QueryOptions = { ...QUERY_DEFAULTS, ...options };
  const queries = queriesFor(instance, resolved.includeN, resolved);
  if (queries.length > 0 || resolved.includeN.length === 0) return { queries, fallback: false };
  const wider = [...resolved.includeN, resolved.includeN[resolved.includeN.length - 1] + 1];
  return { queries: queriesFor(instance, wider, resolved), fallback: true };
}
