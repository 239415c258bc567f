/**
 * ARC grids and tasks (reference-implementation.md §2.1): a grid is a rectangular array of colours 0–9,
 * at most 30×30. Grids are plain `number[][]` so they read and write as the Kaggle JSON files do.
 */
export type Grid = number[][];

export interface Example {
  input: Grid;
  output: Grid;
}

/** One test input of a challenge, with its known output when a solutions file was given. */
export interface TestCase {
  input: Grid;
  output?: Grid;
}

/** A few-shot task: demonstrations (`train`) and the test inputs to solve. */
export interface ArcTask {
  id: string;
  train: Example[];
  test: TestCase[];
}

export const MAX_GRID_SIDE = 30;

export function gridHeight(grid: Grid): number {
  return grid.length;
}

export function gridWidth(grid: Grid): number {
  return grid.length === 0 ? 0 : grid[0].length;
}

export function gridsEqual(a: Grid, b: Grid): boolean {
  if (a.length !== b.length) return false;
  for (let r = 0; r < a.length; r++) {
    const rowA = a[r];
    const rowB = b[r];
    if (rowA.length !== rowB.length) return false;
    for (let c = 0; c < rowA.length; c++) if (rowA[c] !== rowB[c]) return false;
  }
  return true;
}

/** A canonical string for a grid, for de-duplication and vote counting (rows joined by `|`). */
export function gridKey(grid: Grid): string {
  return grid.map((row) => row.join(",")).join("|");
}

export function copyGrid(grid: Grid): Grid {
  return grid.map((row) => row.slice());
}
