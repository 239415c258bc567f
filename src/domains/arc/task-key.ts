/**
 * Canonical task keys for de-duplication. The reference dedupes with a Python `set` of tasks, whose equality is
 * grid equality (shape and cells) of every demonstration and the test, in order; the task's name is "" for every
 * generated task, so it never separates two tasks. These keys give the same equality.
 */
import { type ArcTask, type Example, type Grid, gridHeight, gridKey, gridWidth, type TestCase } from "./grid.js";

export function exampleKey(example: Example): string {
  return `${gridKey(example.input)}>${gridKey(example.output)}`;
}

/** A test case's key; a test case without an output differs from every one with an output. */
export function testCaseKey(testCase: TestCase): string {
  const { input, output } = testCase;
  return output === undefined ? `${gridKey(input)}>?` : exampleKey({ input, output });
}

/** The key of a task's grids (its id is left out): demonstrations in order, then the test cases. */
export function taskKey(task: Pick<ArcTask, "train" | "test">): string {
  return `${task.train.map(exampleKey).join(";")}//${task.test.map(testCaseKey).join(";")}`;
}

/** The items whose key was not seen before, in order (the first of equal items is kept). */
export function dedupeBy<T>(items: Iterable<T>, key: (item: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(item);
  }
  return out;
}

/** The largest height or width of any grid of the task (test outputs included when present). */
export function taskMaxSide(task: Pick<ArcTask, "train" | "test">): number {
  let side = 0;
  const visit = (grid: Grid | undefined): void => {
    if (grid !== undefined) side = Math.max(side, gridHeight(grid), gridWidth(grid));
  };
  for (const example of task.train) {
    visit(example.input);
    visit(example.output);
  }
  for (const testCase of task.test) {
    visit(testCase.input);
    visit(testCase.output);
  }
  return side;
}
