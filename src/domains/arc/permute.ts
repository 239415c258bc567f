/**
 * The two augmentations always applied after the selected ones (reference-implementation.md §2.3):
 * PermuteColors (one colour map per task, 0 fixed) and PermuteExamples (a random order of the demonstrations).
 * The draws follow the reference's order (shuffle the unused colours, then permute the used ones) on the
 * project's seeded `Rng`, not numpy's, so the same seed gives the same result here but not the reference's.
 */
import type { Rng } from "../../engine/random.js";
import { type Augmenter, mapTaskGrids } from "./augmenter.js";
import type { ArcTask } from "./grid.js";
import { mapColours } from "./grid-transforms.js";

/** Fisher–Yates shuffle in place; returns `items`. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** A random permutation of 0..n−1. */
export function permutation(n: number, rng: Rng): number[] {
  return shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    rng,
  );
}

/** The colours (other than 0) in any grid of the task, ascending; test outputs count when present. */
export function usedColours(task: ArcTask): number[] {
  const seen = new Set<number>();
  const visit = (grid: number[][]): void => {
    for (const row of grid) for (const cell of row) if (cell !== 0) seen.add(cell);
  };
  for (const example of task.train) {
    visit(example.input);
    visit(example.output);
  }
  for (const testCase of task.test) {
    visit(testCase.input);
    if (testCase.output !== undefined) visit(testCase.output);
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Draws the task's colour map (index = old colour, value = new colour; identity for unused colours).
 * Each used colour goes to a random unused colour in 1–9 while there are some left; after that, a used colour
 * swaps with a random not yet mapped used colour (possibly itself), overriding an earlier unused-colour target.
 * 0 stays 0. The result is a permutation of 0–9: colours absent from the task are completed in order.
 */
export function drawColourMap(task: ArcTask, rng: Rng): number[] {
  const colours = usedColours(task);
  const used = new Set(colours);
  const remaining = shuffleInPlace(
    [1, 2, 3, 4, 5, 6, 7, 8, 9].filter((colour) => !used.has(colour)),
    rng,
  );
  const permuted = shuffleInPlace(colours.slice(), rng);
  const map = Array.from({ length: 10 }, (_, i) => i);
  const mapped = new Set<number>([0]);
  for (const colour of colours) {
    if (mapped.has(colour)) continue;
    let target: number;
    if (remaining.length > 0) {
      target = remaining.pop()!;
    } else {
      // no unused colour left: swap with a used colour, as the reference does
      target = permuted.pop()!;
      map[target] = colour;
      mapped.add(target);
      const at = permuted.indexOf(colour);
      if (at >= 0) permuted.splice(at, 1);
    }
    map[colour] = target;
    mapped.add(colour);
  }
  // Colours absent from the task take the targets left over, so the map is a permutation and inverts.
  const targets = new Set([...mapped].map((colour) => map[colour]));
  const free = map.map((_, colour) => colour).filter((colour) => !targets.has(colour));
  for (let colour = 0; colour < 10; colour++) if (!mapped.has(colour)) map[colour] = free.shift()!;
  return map;
}

/** The inverse of a colour permutation. */
export function invertColourMap(map: readonly number[]): number[] {
  const inverse = Array.from({ length: map.length }, (_, i) => i);
  map.forEach((target, colour) => {
    inverse[target] = colour;
  });
  return inverse;
}

export function applyColourMap(task: ArcTask, map: readonly number[]): ArcTask {
  return mapTaskGrids(task, (grid) => mapColours(grid, map));
}

export const permuteColors: Augmenter = {
  name: "PermuteColors",
  applyToTask: (task, rng) => applyColourMap(task, drawColourMap(task, rng)),
};

/** A random order of the demonstrations; the test cases are unchanged. */
export const permuteExamples: Augmenter = {
  name: "PermuteExamples",
  applyToTask: (task, rng) => {
    const order = permutation(task.train.length, rng);
    return { ...task, train: order.map((i) => task.train[i]) };
  },
};
