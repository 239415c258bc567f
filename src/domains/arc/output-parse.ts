/**
 * Reads the model's predicted grid (reference-implementation.md §2.6, `eval-self-edits.py` and
 * `parse_numpy_from_str`): delete `#`, collapse double spaces, keep only what lies between the first pair of
 * triple backticks if there are any, trim, drop brackets, split on whitespace into integers; rows = number of `\n`
 * + 1, columns = count / rows, reshape. The shape comes from the newline count, not from each line: by default a
 * ragged text whose count divides evenly is reshaped anyway, as the reference does (`requireEqualRows` rejects it).
 *
 * Returns null, never throws, for anything that is not a grid of colours 0–9 of 1–30 rows and columns. The
 * reference instead casts to int8 (so 10 stays 10 and 256 becomes 0) and accepts any size or an empty 1×0 array;
 * none of those can equal a solution, except the int8 wrap-around, which we do not reproduce.
 */
import { type Grid, MAX_GRID_SIDE } from "./grid.js";

export interface GridParseOptions {
  /** Also require every line to hold exactly `columns` numbers (stricter than the reference). */
  requireEqualRows?: boolean;
}

/** The text the reference hands to its grid decoder. */
function cleanOutputText(text: string): string {
  let cleaned = text.replaceAll("#", "").replaceAll("  ", " ");
  if (cleaned.includes("```")) cleaned = cleaned.split("```")[1];
  return cleaned.trim();
}

/** Python's `int()` on a whitespace-free token, for ASCII digits (it also reads `+3` and `007`). */
const INTEGER_TOKEN = /^[+-]?[0-9]+$/;

export function parseGridText(text: string, options: GridParseOptions = {}): Grid | null {
  if (typeof text !== "string") return null;
  const cleaned = cleanOutputText(text);
  const tokens = cleaned
    .replaceAll("[", "")
    .replaceAll("]", "")
    .split(/\s+/)
    .filter((token) => token !== "");
  if (tokens.length === 0) return null;
  const cells: number[] = [];
  for (const token of tokens) {
    if (!INTEGER_TOKEN.test(token)) return null;
    const value = Number(token);
    if (value < 0 || value > 9) return null;
    cells.push(value === 0 ? 0 : value); // "-0" → 0, not -0
  }
  const rows = cleaned.split("\n").length;
  const columns = Math.floor(cells.length / rows);
  if (columns === 0 || rows * columns !== cells.length) return null;
  if (rows > MAX_GRID_SIDE || columns > MAX_GRID_SIDE) return null;
  if (options.requireEqualRows) {
    for (const line of cleaned.split("\n")) {
      const count = line
        .replaceAll("[", "")
        .replaceAll("]", "")
        .split(/\s+/)
        .filter((t) => t !== "").length;
      if (count !== columns) return null;
    }
  }
  const grid: Grid = [];
  for (let r = 0; r < rows; r++) grid.push(cells.slice(r * columns, (r + 1) * columns));
  return grid;
}
