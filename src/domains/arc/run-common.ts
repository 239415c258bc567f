/**
 * What the four `seal arc` run modules share: task selection (ids or the reference's named subsets), record keys and
 * per-unit seeds, loading the model with a chat-template tokenizer, fingerprints, and reading another run's records.
 */
import fs from "node:fs";
import path from "node:path";
import { Model } from "../../engine/model.js";
import { type LoadedModel, loadModel } from "../../io/model-files.js";
import { checkTokenizerFitsModel, loadTokenizer, type TextTokenizer } from "../../io/tokenizer.js";
import { fingerprintFile, fingerprintModelFolder, sha256Hex } from "../../seal/fingerprint.js";
import { openRecordLog } from "../../seal/records.js";
import { type Fingerprint, type RunInfo, readRunInfo } from "../../seal/run-dir.js";
import { parseInstanceName } from "./data.js";
import type { ArcTask } from "./grid.js";
import { ARC_INSTANCE_SETS, ARC_SUBSETS } from "./named-sets.js";

export interface TaskSelection {
  /** Task ids, in the order given. */
  taskIds?: readonly string[];
  /** A name of ARC_SUBSETS. */
  subset?: string;
}

/**
 * The task ids chosen by `--tasks` or `--subset` (null when neither is given); every id must be a task of
 * `challengesPath`, and an error names the file and the missing ids.
 */
export function selectedTaskIds(
  selection: TaskSelection,
  tasks: readonly ArcTask[],
  challengesPath: string,
): string[] | null {
  if (selection.taskIds !== undefined && selection.subset !== undefined)
    throw new Error("give --tasks or --subset, not both");
  let ids: readonly string[] | null = null;
  if (selection.subset !== undefined) {
    const subset = ARC_SUBSETS[selection.subset];
    if (subset === undefined)
      throw new Error(`unknown subset "${selection.subset}" (known: ${Object.keys(ARC_SUBSETS).join(", ")})`);
    ids = subset;
  } else if (selection.taskIds !== undefined) ids = selection.taskIds;
  if (ids === null) return null;
  if (ids.length === 0) throw new Error("no task ids given");
  const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (duplicates.length > 0) throw new Error(`task ${duplicates[0]} is given twice`);
  checkTasksExist(ids, tasks, challengesPath);
  return [...ids];
}

/** Throws naming the file and every id that is not one of its tasks. */
export function checkTasksExist(ids: readonly string[], tasks: readonly ArcTask[], file: string): void {
  const known = new Set(tasks.map((task) => task.id));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length > 0) throw new Error(`${file}: no task ${missing.join(", ")} (${tasks.length} tasks in the file)`);
}

/** Test-input names `{id}-{k}` from a list or an ARC_INSTANCE_SETS name, checked against the tasks. */
export function resolveInstanceNames(
  value: string | readonly string[],
  tasks: readonly ArcTask[],
  challengesPath: string,
): string[] {
  const names = typeof value === "string" ? ARC_INSTANCE_SETS[value] : value;
  if (names === undefined)
    throw new Error(
      `unknown instance set "${value}" (known: ${Object.keys(ARC_INSTANCE_SETS).join(", ")}, or a list of {task}-{k})`,
    );
  const byId = new Map(tasks.map((task) => [task.id, task]));
  for (const name of names) {
    const { taskId, testIndex } = parseInstanceName(name);
    const task = byId.get(taskId);
    if (task === undefined) throw new Error(`${challengesPath}: no task ${taskId} (test input ${name})`);
    if (testIndex >= task.test.length)
      throw new Error(`${challengesPath}: task ${taskId} has ${task.test.length} test input(s); there is no ${name}`);
  }
  if (new Set(names).size !== names.length) throw new Error("a test input is given twice in the instance list");
  return [...names];
}

/** The key of one (task, edit) unit of work in a run's records. */
export function pairKey(taskId: string, edit: number): string {
  return `task-${taskId}/edit-${edit}`;
}

/** A 32-bit seed for one unit of work, from the run's seed and the unit's key (same unit, same seed on resume). */
export function unitSeed(seed: number, key: string): number {
  return Number.parseInt(sha256Hex(`${seed}/${key}`).slice(0, 8), 16);
}

/** The model, its tokenizer (which must carry a chat template) and the stop tokens. */
export interface ArcEngine {
  loaded: LoadedModel;
  model: Model;
  tokenizer: TextTokenizer;
  stopTokenIds: number[];
}

export function loadArcEngine(modelDir: string, options: { needsChatTemplate: boolean }): ArcEngine {
  const loaded = loadModel(modelDir);
  const tokenizer = loadTokenizer(modelDir);
  checkTokenizerFitsModel(tokenizer, loaded.config, modelDir);
  if (options.needsChatTemplate && !tokenizer.hasChatTemplate)
    throw new Error(
      `${modelDir}: the tokenizer has no chat template; ARC's texts are rendered with the model's own template ` +
        "(a Llama 3.2 Instruct style tokenizer_config.json)",
    );
  return {
    loaded,
    model: new Model(loaded.config, loaded.weights),
    tokenizer,
    stopTokenIds: [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])],
  };
}

/** A model folder's fingerprint with where it lives (the path may change between resumes; the hash may not). */
export function modelFingerprint(dir: string): Fingerprint {
  return { ...fingerprintModelFolder(dir), path: path.resolve(dir) };
}

export function dataFingerprint(file: string): Fingerprint {
  const { sha256, size } = fingerprintFile(file);
  return { sha256, size, path: path.resolve(file) };
}

export function fingerprintHash(fingerprint: Fingerprint | undefined): string | undefined {
  return typeof fingerprint === "string" ? fingerprint : fingerprint?.sha256;
}

/** Another run's run.json, checked to come from `command`; errors name the folder. */
export function readRunOf(dir: string, command: string, flag: string): RunInfo {
  const info = readRunInfo(dir);
  if (info.command !== command)
    throw new Error(`${dir}: ${flag} expects a "seal ${command}" run folder, but this one is "seal ${info.command}"`);
  return info;
}

/** What identifies another run's settings and inputs (its resumes and records left out). */
export function runIdentity(info: RunInfo): string {
  return sha256Hex(JSON.stringify({ command: info.command, config: info.config, fingerprints: info.fingerprints }));
}

/** The finished records of another run's log (opening it cuts a torn last line, as resuming that run would). */
export function readRunRecords<T>(dir: string, name: string, validate: (record: unknown) => T): T[] {
  const file = path.join(dir, `${name}.jsonl`);
  if (!fs.existsSync(file)) return [];
  const log = openRecordLog<T>(file, { validate });
  try {
    return log.values();
  } finally {
    log.close();
  }
}

/** Seconds since `start` (a performance.now() value). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
