/**
 * Voting over a test input's predictions (reference-implementation.md §2.6, `arclib/voting.py`), after each
 * prediction was mapped back through its query's inverse augmentation:
 * 1. groups: "all" (every prediction, grouped by inverter in order of each inverter's first appearance, as the
 *    reference concatenates its per-inverter lists), then each inverter of `VOTED_INVERTERS` that is present (any
 *    other inverter name counts in "all" only, as in the reference);
 * 2. each group gives exactly three candidates (`topThree`), duplicates included: they weigh in step 3;
 * 3. `topThree` again over the pooled candidates gives C1, C2, C3;
 * 4. if C2 and C3 are equally frequent in the pool, the one more frequent among identity outputs wins, C3 when
 *    those counts are equal too, and C2 stays when there are no identity outputs (the reference's code does exactly
 *    this, the last case through a caught KeyError). Attempts are C1 and C2.
 *
 * Ties. The reference iterates distinct outputs, shapes and rows in Python `set` order, which no re-implementation
 * can reproduce; here that order is first appearance, everywhere. The picks of `topThree` then follow one of two
 * rules (`VoteOptions.selection`):
 * - "reference" (default): the reference's own mechanics — most common = first of the highest count (`argmax`),
 *   2nd and 3rd = the second- and third-last entries of a stable ascending sort by count (`np.argsort(counts)[-2]`,
 *   `[-3]`). With the top count tied this picks the most common output again, so its slot goes to the row- or
 *   column-majority grid and a tied output can drop out; the final tie rule can then even make both attempts the
 *   same grid. (With first-appearance order standing in for set order this matches the reference's `vote` exactly,
 *   checked against its code on 3,000 random cases with numpy 1.24, whose default argsort is stable below 17
 *   elements; newer numpy on AVX-512 CPUs may order tied counts differently.)
 * - "ranked": the plain reading "top three by frequency": distinct outputs by count, ties by first appearance,
 *   majority grids only when fewer than three distinct outputs exist.
 */
import { copyGrid, type Grid, gridKey, gridsEqual } from "./grid.js";

/** Inverse-augmentation names predictions are tagged with (the reference's `str(inverse(augmenter))`, tidied). */
export const IDENTITY = "Identity";
export const TRANSPOSE = "Transpose";
export const FLIP_0 = "Flip(0)";
export const FLIP_1 = "Flip(1)";
export const ROTATE_90 = "Rotate(90)";
export const ROTATE_180 = "Rotate(180)";
export const ROTATE_270 = "Rotate(270)";
export const INVERTER_NAMES = [IDENTITY, TRANSPOSE, FLIP_0, FLIP_1, ROTATE_90, ROTATE_180, ROTATE_270] as const;
export type InverterName = (typeof INVERTER_NAMES)[number];

/** The inverter groups that vote on their own, after "all" (Rotate(90) is never an inverter of the reference's
 *  queries: they rotate by 90 and 180, whose inverses are 270 and 180). */
export const VOTED_INVERTERS = [IDENTITY, TRANSPOSE, FLIP_0, FLIP_1, ROTATE_180, ROTATE_270] as const;

/** The reference's own spellings (`str(Transpose())`, and "identity" for its `None`), read as ours. */
const INVERTER_ALIASES: ReadonlyMap<string, string> = new Map([
  ["Transpose()", TRANSPOSE],
  ["identity", IDENTITY],
]);

/** The voting group name for an inverter (aliases resolved; other names pass through). */
export function canonicalInverter(inverter: string): string {
  return INVERTER_ALIASES.get(inverter) ?? inverter;
}

export interface Prediction {
  grid: Grid;
  /** An `INVERTER_NAMES` entry, or a reference spelling of one ("Transpose()", "identity"). */
  inverter: string;
}

export interface VoteResult {
  attempts: [Grid, Grid];
  /** The pooled candidates of step 2, in order (for records and debugging). */
  candidates: Grid[];
}

function isUsableGrid(grid: Grid): boolean {
  if (!Array.isArray(grid) || grid.length === 0 || !Array.isArray(grid[0]) || grid[0].length === 0) return false;
  return grid.every((row) => Array.isArray(row) && row.length === grid[0].length);
}

/** Distinct items by key, in first-appearance order (our stand-in for Python's set order), with their counts. */
function distinctCounts<T>(items: readonly T[], keyOf: (item: T) => string): { item: T; count: number }[] {
  const byKey = new Map<string, { item: T; count: number }>();
  for (const item of items) {
    const key = keyOf(item);
    const entry = byKey.get(key);
    if (entry) entry.count++;
    else byKey.set(key, { item, count: 1 });
  }
  return [...byKey.values()];
}

/** Python's `max(set(items), key=items.count)`: the first distinct item of the highest count. Needs items. */
function mostCommon<T>(items: readonly T[], keyOf: (item: T) => string): T {
  const distinct = distinctCounts(items, keyOf);
  let best = distinct[0];
  for (const entry of distinct) if (entry.count > best.count) best = entry;
  return best.item;
}

function transpose(grid: Grid): Grid {
  return grid[0].map((_, c) => grid.map((row) => row[c]));
}

/**
 * The reference's `row_base_majority_voting`: the most common shape (H, W), then for each row index r < H the most
 * common row r among all grids that have a row r of width W (grids of other shapes included). With `byColumns`,
 * the same on the transposed grids, transposed back.
 */
export function majorityGrid(grids: readonly Grid[], byColumns = false): Grid {
  const inputs = byColumns ? grids.map(transpose) : grids;
  const [height, width] = mostCommon(
    inputs.map((grid) => [grid.length, grid[0].length] as const),
    ([h, w]) => `${h}x${w}`,
  );
  const rows: number[][] = [];
  for (let r = 0; r < height; r++) {
    const candidates = inputs.filter((grid) => grid.length > r && grid[r].length === width).map((grid) => grid[r]);
    rows.push(mostCommon(candidates, (row) => row.join(",")).slice());
  }
  return byColumns ? transpose(rows) : rows;
}

export interface VoteOptions {
  /** How `topThree` picks among counts: the reference's argmax/argsort mechanics, or a plain ranking. */
  selection?: "reference" | "ranked";
}

/** The 1st, 2nd and 3rd picks before filling (undefined where there are too few distinct grids). */
function picks(grids: readonly Grid[], selection: "reference" | "ranked"): [Grid, Grid?, Grid?] {
  const distinct = distinctCounts(grids, gridKey);
  const indices = distinct.map((_, i) => i);
  if (selection === "ranked") {
    const order = indices.sort((a, b) => distinct[b].count - distinct[a].count || a - b);
    return [distinct[order[0]].item, distinct[order[1]]?.item, distinct[order[2]]?.item];
  }
  const first = mostCommon(grids, gridKey);
  // A stable ascending sort by count, read from the end (`np.argsort(counts)[-2]`, `[-3]`).
  const ascending = indices.sort((a, b) => distinct[a].count - distinct[b].count || a - b);
  const fromEnd = (k: number): Grid | undefined => distinct[ascending[ascending.length - k]]?.item;
  return [first, fromEnd(2), fromEnd(3)];
}

/**
 * The reference's `get_all_type_of_votingsv2`: three picks (see `VoteOptions`); a 2nd pick missing or equal to the
 * 1st becomes the row-majority grid, or the column-majority grid if that one is the 1st; a 3rd missing or equal to
 * one before becomes the row-majority grid if it is new, else the column-majority grid (which may repeat one).
 * Returns null for no grids. Grids must be non-empty and rectangular.
 */
export function topThree(grids: readonly Grid[], options: VoteOptions = {}): [Grid, Grid, Grid] | null {
  if (grids.length === 0) return null;
  const [first, pickedSecond, pickedThird] = picks(grids, options.selection ?? "reference");
  let second = pickedSecond ?? first;
  let third = pickedThird ?? first;
  let rowMajority: Grid | undefined;
  let columnMajority: Grid | undefined;
  const rowFill = (): Grid => {
    rowMajority ??= majorityGrid(grids);
    return rowMajority;
  };
  const columnFill = (): Grid => {
    columnMajority ??= majorityGrid(grids, true);
    return columnMajority;
  };
  if (gridsEqual(second, first)) second = gridsEqual(rowFill(), first) ? columnFill() : rowFill();
  if (gridsEqual(third, first) || gridsEqual(third, second)) {
    const row = rowFill();
    third = gridsEqual(row, first) || gridsEqual(row, second) ? columnFill() : row;
  }
  return [first, second, third];
}

function countOf(grids: readonly Grid[], grid: Grid): number {
  let count = 0;
  for (const g of grids) if (gridsEqual(g, grid)) count++;
  return count;
}

/**
 * Two attempts for one test input, or null when no prediction is a usable grid (the reference then submits
 * `[[0]]` twice). Empty or ragged grids are ignored.
 */
export function vote(predictions: readonly Prediction[], options: VoteOptions = {}): VoteResult | null {
  const byInverter = new Map<string, Grid[]>();
  for (const prediction of predictions) {
    if (!isUsableGrid(prediction.grid)) continue;
    const inverter = canonicalInverter(prediction.inverter);
    const group = byInverter.get(inverter);
    if (group) group.push(prediction.grid);
    else byInverter.set(inverter, [prediction.grid]);
  }
  if (byInverter.size === 0) return null;
  const groups: Grid[][] = [[...byInverter.values()].flat()];
  for (const name of VOTED_INVERTERS) {
    const group = byInverter.get(name);
    if (group) groups.push(group);
  }
  const candidates: Grid[] = [];
  for (const group of groups) candidates.push(...(topThree(group, options) ?? []));
  // The "all" group always gives three candidates, so the pool is never empty.
  const [c1, c2, c3] = topThree(candidates, options)!;
  let second = c2;
  const identity = byInverter.get(IDENTITY);
  if (identity && countOf(candidates, c2) === countOf(candidates, c3))
    second = countOf(identity, c2) > countOf(identity, c3) ? c2 : c3;
  return { attempts: [copyGrid(c1), copyGrid(second)], candidates };
}
