import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readArcTasks } from "../../../src/domains/arc/data.js";
import type { ArcTask } from "../../../src/domains/arc/grid.js";

/** The repository root: compiled tests live in dist/test/domains/arc, four levels below it. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/** The reference's ARC data folder (Kaggle format) in ../shared/data beside the clone. */
export const arcDataDir = path.join(repoRoot, "..", "shared", "data", "seal-reference", "few-shot", "data");

export function arcDataPath(name: string): string {
  return path.join(arcDataDir, name);
}

export function exists(file: string): boolean {
  return fs.existsSync(file);
}

let trainingTasks: ArcTask[] | undefined;

/** The 400 training tasks with their solutions, read once per test file. */
export function loadTrainingTasks(): ArcTask[] {
  trainingTasks ??= readArcTasks(
    arcDataPath("arc-agi_training_challenges.json"),
    arcDataPath("arc-agi_training_solutions.json"),
  );
  return trainingTasks;
}
