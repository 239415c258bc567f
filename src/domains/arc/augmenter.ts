/**
 * The augmenter interface (reference-implementation.md §2.3): a named transformation of a whole task. Applying one
 * transforms the input and the output of every demonstration and every test case (a test case's output only when
 * it has one). Grids are never mutated; results may share unchanged grids with their source.
 */
import type { Rng } from "../../engine/random.js";
import type { ArcTask, Example, Grid, TestCase } from "./grid.js";

export interface Augmenter {
  /** The reference's `str(augmenter)` less empty "()", e.g. "Rotate(90)", "Transpose": recorded, voted by. */
  readonly name: string;
  /** Transforms the task; `rng` is drawn from only by the random augmenters. */
  applyToTask(task: ArcTask, rng: Rng): ArcTask;
}

/** An augmenter that is a fixed function of each grid (all but RandomTranslateXY and the permutations). */
export interface GridAugmenter extends Augmenter {
  applyToGrid(grid: Grid): Grid;
  applyToTask(task: ArcTask, rng?: Rng): ArcTask;
}

/** Applies `fn` to input then output of every example, then of every test case; `fn` sees them in that order. */
export function mapTaskGrids(task: ArcTask, fn: (grid: Grid) => Grid): ArcTask {
  return {
    ...task,
    train: task.train.map((example) => mapExample(example, fn)),
    test: task.test.map((testCase) => mapTestCase(testCase, fn)),
  };
}

export function mapExample(example: Example, fn: (grid: Grid) => Grid): Example {
  const input = fn(example.input);
  return { input, output: fn(example.output) };
}

export function mapTestCase(testCase: TestCase, fn: (grid: Grid) => Grid): TestCase {
  const input = fn(testCase.input);
  return testCase.output === undefined ? { input } : { input, output: fn(testCase.output) };
}

export function gridAugmenter(name: string, fn: (grid: Grid) => Grid): GridAugmenter {
  return { name, applyToGrid: fn, applyToTask: (task) => mapTaskGrids(task, fn) };
}
