/**
 * numpy's array operations on grids, as the reference's augmenters use them (reference-implementation.md §2.3).
 * Every function returns a new grid and never mutates its argument; grids are assumed rectangular and non-empty.
 */
import { type Grid, gridHeight, gridWidth } from "./grid.js";

function build(height: number, width: number, cell: (row: number, col: number) => number): Grid {
  const out: Grid = new Array(height);
  for (let r = 0; r < height; r++) {
    const row = new Array<number>(width);
    for (let c = 0; c < width; c++) row[c] = cell(r, c);
    out[r] = row;
  }
  return out;
}

/** `np.rot90(grid, k)`: k quarter turns counter-clockwise (negative k turns clockwise). */
export function rot90(grid: Grid, k: number): Grid {
  const h = gridHeight(grid);
  const w = gridWidth(grid);
  switch (((k % 4) + 4) % 4) {
    case 1:
      return build(w, h, (r, c) => grid[c][w - 1 - r]);
    case 2:
      return build(h, w, (r, c) => grid[h - 1 - r][w - 1 - c]);
    case 3:
      return build(w, h, (r, c) => grid[h - 1 - c][r]);
    default:
      return build(h, w, (r, c) => grid[r][c]);
  }
}

/** `np.flipud`: the rows in reverse order (axis 0). */
export function flipUpDown(grid: Grid): Grid {
  return grid.map((_, r) => grid[grid.length - 1 - r].slice());
}

/** `np.fliplr`: every row reversed (axis 1). */
export function flipLeftRight(grid: Grid): Grid {
  return grid.map((row) => row.slice().reverse());
}

/** `np.transpose`. */
export function transpose(grid: Grid): Grid {
  return build(gridWidth(grid), gridHeight(grid), (r, c) => grid[c][r]);
}

/** `np.concatenate(grids, axis)`: stacked vertically (axis 0) or side by side (axis 1). */
export function concatenate(grids: readonly Grid[], axis: 0 | 1): Grid {
  if (axis === 0) return grids.flatMap((grid) => grid.map((row) => row.slice()));
  const height = gridHeight(grids[0]);
  for (const grid of grids) {
    if (gridHeight(grid) !== height) throw new Error("concatenate along axis 1 needs grids of one height");
  }
  // plain loops: flatMap over cells is ~10× slower, and TTT data applies these to thousands of grids
  const out: Grid = new Array(height);
  for (let r = 0; r < height; r++) {
    const row: number[] = [];
    for (const grid of grids) for (const cell of grid[r]) row.push(cell);
    out[r] = row;
  }
  return out;
}

/** `np.repeat(grid, factor, axis)`: each row (axis 0) or each column (axis 1) repeated `factor` times in place. */
export function repeatCells(grid: Grid, factor: number, axis: 0 | 1): Grid {
  if (axis === 0) return grid.flatMap((row) => Array.from({ length: factor }, () => row.slice()));
  return build(gridHeight(grid), gridWidth(grid) * factor, (r, c) => grid[r][Math.floor(c / factor)]);
}

/** `np.tile`-like repetition: the whole grid `times` times along axis 0, axis 1, or both (axis 2, a times×times block). */
export function tile(grid: Grid, times: number, axis: 0 | 1 | 2): Grid {
  const copies = (g: Grid): Grid[] => Array.from({ length: times }, () => g);
  if (axis === 0) return concatenate(copies(grid), 0);
  if (axis === 1) return concatenate(copies(grid), 1);
  return concatenate(copies(concatenate(copies(grid), 0)), 1);
}

/** `np.roll(grid, (rows, cols), axis=(0, 1))`: cyclic shift down by `rows` and right by `cols`. */
export function roll(grid: Grid, rows: number, cols: number): Grid {
  const h = gridHeight(grid);
  const w = gridWidth(grid);
  const mod = (value: number, n: number): number => ((value % n) + n) % n;
  return build(h, w, (r, c) => grid[mod(r - rows, h)][mod(c - cols, w)]);
}

/** Applies a colour map (index = old colour, value = new colour) to every cell. */
export function mapColours(grid: Grid, map: readonly number[]): Grid {
  return grid.map((row) => row.map((cell) => map[cell]));
}
