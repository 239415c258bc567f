/**
 * The reference's augmenters (reference-implementation.md §2.3, `arclib/augmenters.py` as `self-edit.py` uses
 * them), with numpy semantics, and the four groups a self-edit selects. Names are the reference's `str()` less
 * empty parentheses ("Rotate(90)", "Flip(0)", "Transpose", "RandomTranslateXY"), the names vote.ts groups by.
 */
import { Rng } from "../../engine/random.js";
import { type Augmenter, type GridAugmenter, gridAugmenter, mapExample, mapTestCase } from "./augmenter.js";
import { type Grid, gridHeight, gridWidth } from "./grid.js";
import {
  concatenate,
  flipLeftRight,
  flipUpDown,
  repeatCells,
  roll,
  rot90,
  tile,
  transpose,
} from "./grid-transforms.js";

export type { Augmenter, GridAugmenter } from "./augmenter.js";
export { permuteColors, permuteExamples } from "./permute.js";

/** `np.rot90(grid, angle / 90)`: counter-clockwise. */
export function rotate(angle: 90 | 180 | 270): GridAugmenter {
  return gridAugmenter(`Rotate(${angle})`, (grid) => rot90(grid, angle / 90));
}

/** Flip(0) reverses the rows (`np.flipud`), Flip(1) reverses each row (`np.fliplr`). */
export function flip(axis: 0 | 1): GridAugmenter {
  return gridAugmenter(`Flip(${axis})`, axis === 0 ? flipUpDown : flipLeftRight);
}

/** The grid and its mirror along `axis` side by side (mirror first when `reverse`): doubles that side. */
export function reflect(axis: 0 | 1, reverse: boolean): GridAugmenter {
  const mirror = axis === 0 ? flipUpDown : flipLeftRight;
  return gridAugmenter(`Reflect(${axis}, reverse=${reverse ? "True" : "False"})`, (grid) =>
    concatenate(reverse ? [mirror(grid), grid] : [grid, mirror(grid)], axis),
  );
}

export const transposeAugmenter: GridAugmenter = gridAugmenter("Transpose", transpose);

/** Each cell becomes a factor×factor block. */
export function increaseResolution(factor: number): GridAugmenter {
  return gridAugmenter(`IncreaseResolution(${factor})`, (grid) => repeatCells(repeatCells(grid, factor, 0), factor, 1));
}

/** Each row repeated `factor` times. */
export function increaseHeight(factor: number): GridAugmenter {
  return gridAugmenter(`IncreaseHeight(${factor})`, (grid) => repeatCells(grid, factor, 0));
}

/** Each column repeated `factor` times. */
export function increaseWidth(factor: number): GridAugmenter {
  return gridAugmenter(`IncreaseWidth(${factor})`, (grid) => repeatCells(grid, factor, 1));
}

/** The whole grid tiled `times` times vertically (axis 0), horizontally (1) or both (2). */
export function repeat(axis: 0 | 1 | 2, times: number): GridAugmenter {
  return gridAugmenter(`Repeat(${axis}, ${times})`, (grid) => tile(grid, times, axis));
}

/** The augmenters one after the other; named as Python prints `Chain([a, b])`. */
export function chain(augmenters: readonly GridAugmenter[]): GridAugmenter {
  const name = `Chain([${augmenters.map((augmenter) => augmenter.name).join(", ")}])`;
  return gridAugmenter(name, (grid) => augmenters.reduce((g, augmenter) => augmenter.applyToGrid(g), grid));
}

function translateShift(grid: Grid, stream: Rng): Grid {
  const rows = stream.int(Math.min(4, gridHeight(grid)));
  const cols = stream.int(Math.min(4, gridWidth(grid)));
  return roll(grid, rows, cols);
}

/**
 * A cyclic shift by dx ∈ [0, min(4, H)), dy ∈ [0, min(4, W)). As in the reference, every example (and the test)
 * draws from its own copy of one random stream, so all inputs get the same draws and all outputs the next ones
 * (the bounds depend on each grid's size). The copy is seeded by one draw from `rng`.
 */
export const randomTranslateXY: Augmenter = {
  name: "RandomTranslateXY",
  applyToTask: (task, rng) => {
    const seed = rng.nextUint32();
    const shift = (): ((grid: Grid) => Grid) => {
      const stream = new Rng(seed);
      return (grid) => translateShift(grid, stream);
    };
    return {
      ...task,
      train: task.train.map((example) => mapExample(example, shift())),
      test: task.test.map((testCase) => mapTestCase(testCase, shift())),
    };
  },
};

/** basic (11): rotations, flips, reflections, the random translation and the transpose, in the reference's order. */
export const BASIC_AUGMENTERS: readonly Augmenter[] = [
  rotate(90),
  rotate(270),
  rotate(180),
  flip(0),
  flip(1),
  reflect(0, true),
  reflect(1, true),
  reflect(0, false),
  reflect(1, false),
  randomTranslateXY,
  transposeAugmenter,
];

/** size (3). */
export const SIZE_AUGMENTERS: readonly Augmenter[] = [increaseResolution(2), increaseHeight(2), increaseWidth(2)];

/** chain (6): each geometric transform followed by IncreaseResolution(2). */
export const CHAIN_AUGMENTERS: readonly Augmenter[] = [
  rotate(90),
  rotate(270),
  rotate(180),
  flip(0),
  flip(1),
  transposeAugmenter,
].map((augmenter) => chain([augmenter, increaseResolution(2)]));

/** repeat (3). */
export const REPEAT_AUGMENTERS: readonly Augmenter[] = [repeat(0, 2), repeat(1, 2), repeat(2, 2)];

/** The self-edit's `data_generation` booleans (use_basic_augmentations, …). */
export interface AugmentationGroups {
  basic: boolean;
  size: boolean;
  chain: boolean;
  repeat: boolean;
}

/** The selected groups' augmenters in the reference's order (basic, size, chain, repeat; Concat is disabled). */
export function selectAugmenters(groups: AugmentationGroups): Augmenter[] {
  return [
    ...(groups.basic ? BASIC_AUGMENTERS : []),
    ...(groups.size ? SIZE_AUGMENTERS : []),
    ...(groups.chain ? CHAIN_AUGMENTERS : []),
    ...(groups.repeat ? REPEAT_AUGMENTERS : []),
  ];
}

/** All 23 augmenters. */
export const ALL_AUGMENTERS: readonly Augmenter[] = selectAugmenters({
  basic: true,
  size: true,
  chain: true,
  repeat: true,
});

/** The augmenter with this name, among the 23 (undefined for any other name). */
export function augmenterByName(name: string): Augmenter | undefined {
  return ALL_AUGMENTERS.find((augmenter) => augmenter.name === name);
}

/** The augmenters the reference can invert, by name. */
const INVERTIBLE: ReadonlyMap<string, GridAugmenter> = new Map(
  [rotate(90), rotate(180), rotate(270), flip(0), flip(1), transposeAugmenter].map((augmenter) => [
    augmenter.name,
    augmenter,
  ]),
);

const ROTATION_INVERSES: ReadonlyMap<string, string> = new Map([
  ["Rotate(90)", "Rotate(270)"],
  ["Rotate(270)", "Rotate(90)"],
]);

/**
 * The reference's `inverse`: Rotate(a) → Rotate(360 − a); Flip(0), Flip(1) and Transpose invert themselves.
 * Undefined for every other name (the reference has no inverse for them).
 */
export function inverseAugmenter(name: string): GridAugmenter | undefined {
  return INVERTIBLE.get(ROTATION_INVERSES.get(name) ?? name);
}

/** The name of no transform: a query's inverter when nothing was applied (the reference's `None`). */
export const IDENTITY_NAME = "Identity";

/**
 * Maps a prediction back to the original frame: applies the transform a query's `inverter` names, as the
 * reference evaluates `arclib.augmenters.<inverter>`. Throws for a name that is not an inverse.
 */
export function applyInverter(inverter: string, grid: Grid): Grid {
  if (inverter === IDENTITY_NAME) return grid;
  const augmenter = INVERTIBLE.get(inverter);
  if (augmenter === undefined) throw new Error(`no inverter named ${JSON.stringify(inverter)}`);
  return augmenter.applyToGrid(grid);
}
