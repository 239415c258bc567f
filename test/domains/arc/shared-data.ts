import fs from "node:fs";
import path from "node:path";
import { readArcTasks } from "../../../src/domains/arc/data.js";
import type { ArcTask } from "../../../src/domains/arc/grid.js";
import { missingSharedData, sharedDir } from "../../shared-data.js";

/** The reference's ARC data folder (Kaggle format) in ../shared/data beside the clone. */
export const arcDataDir = path.join(sharedDir, "data", "seal-reference", "few-shot", "data");

/** Skip reason for tests that read the reference's ARC data (false when it is there). */
export const arcDataMissing = missingSharedData(arcDataDir, "the reference's ARC data");

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
