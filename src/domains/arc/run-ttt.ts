/**
 * `seal arc ttt` (reference-implementation.md §2.4–2.5): the inner loop for every task × configuration, each
 * configuration trained on the task's demonstrations (runTtt) into its own LoRA adapter. The configurations come
 * from a self-edit file (SEAL), one fixed config (the "fixed configuration" baseline) or a grid of configs for every
 * task (the "oracle"; config-grid.ts). A run folder:
 *
 *   run.json                 settings, configs, model and data fingerprints (compared on --resume)
 *   adapters/{task}/{i}/     PEFT adapter of (task, configuration i): written as `{i}.partial`, then renamed
 *   records.jsonl            one record per (task, i), appended after its adapter is in place, keyed
 *                            `task-{id}/edit-{i}`: status, validity and reason, TTT data counts, steps, losses, timings
 *   summary.md/json          per-task counts of trained / zero-effect / no-data adapters
 *
 * As in the reference, an invalid configuration still gets a zero-effect adapter (B = 0) and a task whose TTT data
 * is empty gets none (no-data); a training that diverges (non-finite loss or gradient) gets none either and is
 * recorded as "diverged" (a finished unit: --resume does not retry it); `seal arc eval` scores a (task, i) without
 * an adapter as wrong.
 */
import path from "node:path";
import { loraParameterCount } from "../../engine/lora.js";
import { writeDirectoryAtomically } from "../../io/atomic-file.js";
import { baseModelFingerprint } from "../../io/base-fingerprint.js";
import { saveAdapter } from "../../io/peft.js";
import {
  DEFAULT_PARALLEL_ADAPTERS,
  parallelAdaptersWithin,
  TRAINING_BYTES_PER_PARAMETER,
} from "../../seal/parallel-adapters.js";
import { createProgress, type ProgressStream } from "../../seal/progress.js";
import { openRun } from "../../seal/run-dir.js";
import { readChallengesFile } from "./data.js";
import type { ArcTask } from "./grid.js";
import {
  type ArcEngine,
  checkTasksExist,
  dataFingerprint,
  loadArcEngine,
  modelFingerprint,
  pairKey,
  secondsSince,
  selectedTaskIds,
  type TaskSelection,
} from "./run-common.js";
import { parseSelfEditConfig, type RawSelfEditConfig, type SelfEditConfig } from "./self-edit-config.js";
import { readArcSelfEditFile } from "./self-edit-sampling.js";
import { runTttMany, type TttResult, type TttSettings } from "./ttt.js";
import { type ArcTttRecord, adapterPath, TTT_COMMAND, TTT_RECORDS, validateTttRecord } from "./ttt-records.js";
import { type ArcTttSummary, summarizeTtt, tttSummaryMarkdown } from "./ttt-summary.js";

/** Where each task's configurations come from. */
export type ArcTttSource =
  | { kind: "self-edits"; path: string }
  | { kind: "fixed"; config: RawSelfEditConfig }
  | { kind: "all-configs"; configs: RawSelfEditConfig[] };

export interface ArcTttRequest {
  modelDir: string;
  challengesPath: string;
  outDir: string;
  resume: boolean;
  /** The tasks (required for fixed and all-configs; for self-edits, default: every task of the file). */
  selection: TaskSelection;
  source: ArcTttSource;
  settings: TttSettings;
  /**
   * Inner loops trained together over one pass of the base model (default DEFAULT_PARALLEL_ADAPTERS, fewer when
   * their training state would pass PARALLEL_ADAPTER_BUDGET_BYTES). Results do not depend on it beyond float rounding.
   */
  parallelAdapters?: number;
  /** The model already loaded from `modelDir` (reused across runs); default: loaded when there is work. */
  engine?: ArcEngine;
  progressStream?: ProgressStream;
  log?: (line: string) => void;
  /** Test hook: called after each unit's record is appended; throwing from it simulates a crash. */
  afterUnit?: (key: string) => void;
}

interface Unit {
  taskId: string;
  edit: number;
  config: SelfEditConfig;
}

/** A stored or hand-written config as the inner loop reads it; errors name where it came from. */
function readConfig(raw: RawSelfEditConfig, where: string): SelfEditConfig {
  const parsed = parseSelfEditConfig(JSON.stringify(raw), { strictJson: true });
  if (parsed.kind === "unparseable") throw new Error(`${where}: not a self-edit config (${parsed.reason})`);
  return parsed;
}

/** The units of work in order (task by task), the task ids, and tasks that have no configuration. */
function planUnits(
  request: ArcTttRequest,
  tasks: readonly ArcTask[],
): { units: Unit[]; taskIds: string[]; withoutConfigs: string[] } {
  const selected = selectedTaskIds(request.selection, tasks, request.challengesPath);
  const { source } = request;
  if (source.kind !== "self-edits") {
    if (selected === null) throw new Error("choose the tasks: --tasks id,id or --subset train-1b|eval-1b");
    const configs = source.kind === "fixed" ? [source.config] : source.configs;
    const units = selected.flatMap((taskId) =>
      configs.map((raw, edit) => ({ taskId, edit, config: readConfig(raw, `config ${edit}`) })),
    );
    return { units, taskIds: selected, withoutConfigs: [] };
  }
  const file = readArcSelfEditFile(source.path);
  const taskIds = selected ?? [...file.keys()];
  if (selected === null) checkTasksExist(taskIds, tasks, `${request.challengesPath} (tasks of ${source.path})`);
  const units: Unit[] = [];
  const withoutConfigs: string[] = [];
  for (const taskId of taskIds) {
    const edits = file.get(taskId) ?? [];
    if (edits.length === 0) withoutConfigs.push(taskId);
    for (const edit of edits)
      units.push({
        taskId,
        edit: edit.index,
        config: readConfig(edit.config, `${source.path}: task ${taskId} edit ${edit.index}`),
      });
  }
  return { units, taskIds, withoutConfigs };
}

function checkSettings(settings: TttSettings): void {
  const positive: [string, number][] = [
    ["rank", settings.lora.rank],
    ["batch-size", settings.batchSize],
    ["grad-accum", settings.gradientAccumulation],
    ["max-examples", settings.data.maxTasks],
    ["max-example-tokens", settings.data.maxTokens],
  ];
  for (const [name, value] of positive)
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  if (settings.data.leaveN.length === 0) throw new Error("--leave-n needs at least one value");
}

/** Runs (or resumes) the inner loops and writes adapters, records and the summary; returns the summary. */
export function runArcTtt(request: ArcTttRequest): ArcTttSummary {
  const { settings, source } = request;
  const log = request.log ?? (() => {});
  checkSettings(settings);
  const tasks = readChallengesFile(request.challengesPath);
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const { units, taskIds, withoutConfigs } = planUnits(request, tasks);
  if (withoutConfigs.length > 0)
    log(`no self-edits for task(s) ${withoutConfigs.join(", ")}: no adapters (arc eval scores them wrong)`);

  const fingerprints: Record<string, ReturnType<typeof dataFingerprint>> = {
    model: modelFingerprint(request.modelDir),
    challenges: dataFingerprint(request.challengesPath),
  };
  if (source.kind === "self-edits") fingerprints.selfEdits = dataFingerprint(source.path);
  const run = openRun(
    request.outDir,
    {
      command: TTT_COMMAND,
      config: {
        source: source.kind === "self-edits" ? { kind: source.kind } : source,
        tasks: taskIds,
        settings,
        paths: {
          model: path.resolve(request.modelDir),
          challenges: path.resolve(request.challengesPath),
          selfEdits: source.kind === "self-edits" ? path.resolve(source.path) : null,
        },
      },
      fingerprints,
    },
    { resume: request.resume, allowDifferent: ["config.paths"] },
  );
  try {
    const records = run.openRecords<ArcTttRecord>(TTT_RECORDS, { validate: validateTttRecord });
    try {
      if (records.truncatedBytes > 0)
        log(`cut a torn last record (${records.truncatedBytes} bytes) from ${records.path}`);
      const keys = units.map((unit) => pairKey(unit.taskId, unit.edit));
      const done = keys.filter((key) => records.has(key)).length;
      if (run.resumed) log(`resuming ${run.dir}: ${done} of ${units.length} inner loops done`);
      if (done < units.length) {
        const engine = request.engine ?? loadArcEngine(request.modelDir, { needsChatTemplate: true });
        const baseFingerprint = baseModelFingerprint(engine.loaded.config, engine.loaded.weights);
        const progress = createProgress({
          total: units.length,
          done,
          name: "inner loops",
          stream: request.progressStream,
        });
        const recordUnit = (unit: Unit, key: string, { adapter, outcome }: TttResult, trainSeconds: number) => {
          if (outcome.divergence !== undefined)
            log(`${key}: ${outcome.divergence.error}; no adapter (arc eval scores it wrong)`);
          const saveStarted = performance.now();
          let relative: string | null = null;
          if (adapter !== null) {
            relative = adapterPath(unit.taskId, unit.edit);
            // a folder left by a crash between the rename and the record is replaced
            writeDirectoryAtomically(path.join(run.dir, relative), (partial) =>
              saveAdapter(partial, adapter, { baseModel: path.resolve(request.modelDir), baseFingerprint }),
            );
          }
          const save = secondsSince(saveStarted);
          records.appendRecord(key, {
            key,
            taskId: unit.taskId,
            edit: unit.edit,
            config: unit.config.raw,
            adapter: relative,
            outcome,
            seconds: { data: outcome.seconds.data, train: outcome.seconds.train, save, total: trainSeconds + save },
          });
        };
        const pending = units.filter((unit) => !records.has(pairKey(unit.taskId, unit.edit)));
        const requested = request.parallelAdapters ?? DEFAULT_PARALLEL_ADAPTERS;
        const parallel = parallelAdaptersWithin(
          requested,
          TRAINING_BYTES_PER_PARAMETER * loraParameterCount(engine.loaded.config, settings.lora),
        );
        if (parallel < requested)
          log(`training ${parallel} adapters at a time, not ${requested}: so their training state stays within 4 GiB`);
        // records stay one per inner loop, appended in order, so --resume picks up unit by unit whatever K was
        for (let from = 0; from < pending.length; from += parallel) {
          const group = pending.slice(from, from + parallel);
          const keys = group.map((unit) => pairKey(unit.taskId, unit.edit));
          const label = group.length === 1 ? keys[0] : `${keys[0]} +${group.length - 1}`;
          progress.setLabel(label);
          const started = performance.now();
          const results = runTttMany(
            engine.model,
            engine.tokenizer,
            group.map((unit) => ({ instance: byId.get(unit.taskId)!, config: unit.config })),
            settings,
            (_, step, total) => progress.setLabel(`${label} step ${step}/${total}`),
          );
          const groupSeconds = secondsSince(started) / group.length;
          group.forEach((unit, i) => {
            recordUnit(unit, keys[i], results[i], groupSeconds);
            progress.tick(1, keys[i]);
            request.afterUnit?.(keys[i]);
          });
        }
        progress.finish();
      }
      const finished = keys.flatMap((key) => records.get(key) ?? []);
      const summary = summarizeTtt(finished, units.length, taskIds, withoutConfigs, request);
      run.writeSummary({ markdown: tttSummaryMarkdown(summary), json: summary });
      return summary;
    } finally {
      records.close();
    }
  } finally {
    run.release();
  }
}
