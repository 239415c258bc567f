/**
 * Grid ↔ text formats of the reference (reference-implementation.md §2.2, §2.5):
 * - numpy's `str(array)` of an integer array, used in TTT and inference prompts: `[[0 1 2]\n [3 4 5]]`;
 * - the self-edit prompt's rows of space-separated digits, one row per line.
 * Parsing model output back into a grid lives in output-parse.ts (it must tolerate junk; these functions need not).
 */
import type { Grid } from "./grid.js";

/** numpy's default `linewidth`: a longer line would be wrapped, which `gridToNumpyText` does not reproduce. */
export const NUMPY_LINE_WIDTH = 75;

function checkIntegerGrid(grid: Grid, where: string): void {
  const width = grid[0].length;
  for (const [r, row] of grid.entries()) {
    if (row.length !== width) throw new RangeError(`${where}: row ${r} has ${row.length} cells, row 0 has ${width}`);
    for (const value of row)
      if (!Number.isSafeInteger(value)) throw new RangeError(`${where}: cell ${value} in row ${r} is not an integer`);
  }
}

/**
 * numpy's `str()` of a 2-D integer array: rows in brackets, cells right-aligned to the widest cell's width (no
 * padding for ARC's single-digit colours), rows after the first indented by one space. An empty grid prints as
 * numpy prints `np.array([])`: `[]`. Throws if a row would exceed numpy's 75-character line width (numpy would wrap
 * it; for single-digit cells that happens only beyond 36 columns, so never for ARC's ≤ 30).
 */
export function gridToNumpyText(grid: Grid): string {
  if (grid.length === 0 || grid[0].length === 0) {
    if (grid.some((row) => row.length > 0)) throw new RangeError("gridToNumpyText: ragged grid");
    return "[]";
  }
  checkIntegerGrid(grid, "gridToNumpyText");
  const cellWidth = Math.max(...grid.map((row) => Math.max(...row.map((value) => String(value).length))));
  const columns = grid[0].length;
  // Each line is a two-character prefix (`[[` or ` [`), the cells with single spaces, and `]` or `]]`.
  const longestLine = 2 + columns * cellWidth + (columns - 1) + 2;
  if (longestLine > NUMPY_LINE_WIDTH)
    throw new RangeError(`gridToNumpyText: ${columns} columns of width ${cellWidth} would wrap in numpy's output`);
  const rows = grid.map((row) => `[${row.map((value) => String(value).padStart(cellWidth, " ")).join(" ")}]`);
  return `[${rows.join("\n ")}]`;
}

/** The self-edit prompt's grid text: each row's cells joined by single spaces, every row ending in `\n`. */
export function gridToRowLines(grid: Grid): string {
  return grid.map((row) => `${row.join(" ")}\n`).join("");
}
