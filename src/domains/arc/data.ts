/**
 * ARC data files in ARC Prize 2024 (Kaggle) format (reference-implementation.md §2.1):
 * - challenges `{task_id: {train: [{input, output}], test: [{input}]}}`;
 * - solutions `{task_id: [grid per test input]}`.
 * Grids are validated strictly (non-empty, rectangular, integer colours 0–9, sides ≤ 30); every error names the
 * file, the task and the grid (`train[2].output`). Tasks keep the file's order, which the reference's task
 * selection (`--n_tasks`) depends on.
 */
import { z } from "zod";
import { parseJsonText } from "../../io/json-file.js";
import { readTextFile } from "../../io/text-file.js";
import { type ArcTask, type Grid, MAX_GRID_SIDE } from "./grid.js";
import { topLevelKeyOrder } from "./json-key-order.js";

export {
  ARC_FILES,
  EVAL_INSTANCES_1B,
  EVAL_SELF_EDIT_TASKS_1B,
  EVAL_SUBSET_1B,
  EVAL_TASKS_1B,
  TRAIN_EVAL_INSTANCES_1B,
  TRAIN_SELF_EDIT_TASKS_1B,
  TRAIN_SUBSET_1B,
} from "./subsets.js";

const colourSchema = z
  .number({ error: "expected a colour (an integer 0–9)" })
  .int("expected an integer colour 0–9")
  .min(0, "expected a colour 0–9, got a negative number")
  .max(9, "expected a colour 0–9, got more than 9");

const rowSchema = z
  .array(colourSchema, { error: "expected a row (an array of colours)" })
  .min(1, "empty row")
  .max(MAX_GRID_SIDE, `row wider than ${MAX_GRID_SIDE} cells`);

export const gridSchema = z
  .array(rowSchema, {
    error: (issue) => (issue.input === undefined ? "missing" : "expected a grid (an array of rows)"),
  })
  .min(1, "empty grid (no rows)")
  .max(MAX_GRID_SIDE, `more than ${MAX_GRID_SIDE} rows`)
  .superRefine((grid, ctx) => {
    // zod runs this after a failed length check too
    if (grid.length === 0 || !grid.every(Array.isArray)) return;
    const width = grid[0].length;
    const bad = grid.findIndex((row) => row.length !== width);
    if (bad >= 0) {
      ctx.addIssue({
        code: "custom",
        path: [bad],
        message: `not rectangular: ${grid[bad].length} cells where row 0 has ${width}`,
      });
    }
  });

const exampleSchema = z.object({ input: gridSchema, output: gridSchema }, { error: "expected {input, output}" });

const testInputSchema = z.object({ input: gridSchema, output: gridSchema.optional() }, { error: "expected {input}" });

const taskSchema = z.object(
  {
    train: z.array(exampleSchema, { error: "expected an array of {input, output}" }).min(1, "no train examples"),
    test: z.array(testInputSchema, { error: "expected an array of {input}" }).min(1, "no test inputs"),
  },
  { error: "expected a task {train, test}" },
);

const challengesSchema = z.record(z.string(), taskSchema, { error: "expected an object {task_id: {train, test}}" });

const solutionsSchema = z.record(
  z.string(),
  z.array(gridSchema, { error: "expected an array of grids, one per test input" }).min(1, "no solution grids"),
  { error: "expected an object {task_id: [grid per test input]}" },
);

/** Solutions by task id: one grid per test input, in test order. */
export type ArcSolutions = ReadonlyMap<string, Grid[]>;

/** `task X: train[2].output: row 3, column 1` from a zod path `[X, "train", 2, "output", 3, 1]`. */
function describePath(path: readonly PropertyKey[], solutions: boolean): string {
  if (path.length === 0) return "(top level)";
  const parts = [`task ${String(path[0])}`];
  let rest = path.slice(1);
  if (solutions && typeof rest[0] === "number") {
    parts.push(`solution ${rest[0]} (test[${rest[0]}].output)`);
    rest = rest.slice(1);
  } else if (!solutions && rest.length > 0) {
    let where = String(rest[0]);
    if (typeof rest[1] === "number") where += `[${rest[1]}]`;
    if (typeof rest[2] === "string") where += `.${rest[2]}`;
    parts.push(where);
    rest = rest.slice(3);
  }
  if (typeof rest[0] === "number")
    parts.push(typeof rest[1] === "number" ? `row ${rest[0]}, column ${rest[1]}` : `row ${rest[0]}`);
  return parts.join(": ");
}

function validate<Schema extends z.ZodType>(
  value: unknown,
  schema: Schema,
  file: string,
  solutions: boolean,
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const shown = 5;
  const issues = result.error.issues
    .slice(0, shown)
    .map((issue) => `${describePath(issue.path, solutions)}: ${issue.message}`);
  const more = result.error.issues.length - shown;
  throw new Error(`${file}: ${issues.join("; ")}${more > 0 ? ` (and ${more} more problems)` : ""}`);
}

/** JSON.parse puts integer-like keys ("59341089") first; the reference (Python) keeps the file's order. */
function inFileOrder<T>(record: Record<string, T>, text: string): [string, T][] {
  const order = topLevelKeyOrder(text);
  return order.map((key) => [key, record[key]]);
}

/** Challenges from already-read JSON text, in file order; `path` names the file in errors. */
export function parseChallenges(text: string, path: string): ArcTask[] {
  const record = validate(parseJsonText(text, path), challengesSchema, path, false);
  return inFileOrder(record, text).map(([id, task]) => ({
    id,
    train: task.train.map(({ input, output }) => ({ input, output })),
    test: task.test.map(({ input, output }) => (output === undefined ? { input } : { input, output })),
  }));
}

/** Reads a challenges file `{task_id: {train: [{input, output}], test: [{input}]}}`. */
export function readChallengesFile(path: string): ArcTask[] {
  return parseChallenges(readTextFile(path), path);
}

/** Solutions from already-read JSON text; `path` names the file in errors. */
export function parseSolutions(text: string, path: string): Map<string, Grid[]> {
  const record = validate(parseJsonText(text, path), solutionsSchema, path, true);
  return new Map(inFileOrder(record, text));
}

/** Reads a solutions file `{task_id: [grid per test input]}`. */
export function readSolutionsFile(path: string): Map<string, Grid[]> {
  return parseSolutions(readTextFile(path), path);
}

/**
 * Sets each test input's output from the solutions. Every task needs solutions, one per test input, and every
 * solved task must be a challenge; `solutionsPath` names the solutions file in errors.
 */
export function attachSolutions(tasks: readonly ArcTask[], solutions: ArcSolutions, solutionsPath: string): ArcTask[] {
  const ids = new Set(tasks.map((task) => task.id));
  for (const id of solutions.keys()) {
    if (!ids.has(id)) throw new Error(`${solutionsPath}: task ${id}: not among the challenges`);
  }
  return tasks.map((task) => {
    const grids = solutions.get(task.id);
    if (grids === undefined) throw new Error(`${solutionsPath}: task ${task.id}: no solutions`);
    if (grids.length !== task.test.length) {
      throw new Error(
        `${solutionsPath}: task ${task.id}: ${grids.length} solution grids for ${task.test.length} test inputs`,
      );
    }
    return { ...task, test: task.test.map((testCase, k) => ({ input: testCase.input, output: grids[k] })) };
  });
}

/** Reads a challenges file and, when given, its solutions file joined onto the test inputs. */
export function readArcTasks(challengesPath: string, solutionsPath?: string): ArcTask[] {
  const tasks = readChallengesFile(challengesPath);
  return solutionsPath === undefined ? tasks : attachSolutions(tasks, readSolutionsFile(solutionsPath), solutionsPath);
}

/** One instance per test input, named `{id}-{k}` with that test input alone, as the reference's `Task`s are. */
export function expandTestInputs(tasks: readonly ArcTask[]): ArcTask[] {
  return tasks.flatMap((task) =>
    task.test.map((testCase, k) => ({ id: `${task.id}-${k}`, train: task.train, test: [testCase] })),
  );
}

/** Splits an instance name `{id}-{k}` into the task id and the test index. */
export function parseInstanceName(name: string): { taskId: string; testIndex: number } {
  const match = /^(.*)-(\d+)$/.exec(name);
  if (match === null) throw new Error(`not an instance name {task_id}-{k}: ${JSON.stringify(name)}`);
  return { taskId: match[1], testIndex: Number(match[2]) };
}

/** The tasks (or instances) with these ids, in the order given; throws naming any id that is missing. */
export function selectTasks(tasks: readonly ArcTask[], ids: readonly string[], source = "the data"): ArcTask[] {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new Error(`${source}: no task ${missing.join(", ")}`);
  return ids.map((id) => byId.get(id)!);
}
