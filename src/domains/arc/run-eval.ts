/**
 * `seal arc eval` (reference-implementation.md §2.6, §2.8, `eval-self-edits.py`): for each task × configuration of
 * a `seal arc ttt` run, load that adapter, predict every evaluated test input of the task (queries → greedy answers
 * → parse → inverse → vote, predict.ts) and score: a (task, configuration) pair is solved only when all the task's
 * test inputs are right; the success rate is solved pairs over all pairs. With `--no-adapter` the base model answers
 * the same queries (the in-context baseline), one pair per task. A run folder:
 *
 *   run.json             settings, model/data fingerprints, the TTT run's identity (compared on --resume)
 *   records.jsonl        one record per (task, configuration), keyed `task-{id}/edit-{i}`: per test input the
 *                        answers, the two attempts, correctness
 *   final_results.json   the reference's layout `{"<edit>": {"task_id": {...}, "correct": {...}}}`
 *   summary.md/json      success rate, per-task table, and the best over configurations (the oracle for a grid)
 *
 * As the reference, a task in the list without an adapter for a configuration (no TTT data, or no self-edit) is
 * scored wrong for it, and a test input with no parseable answer counts as not submitted.
 */
import path from "node:path";
import { type LoraConfig, loraParameterCount } from "../../engine/lora.js";
import { baseModelFingerprint } from "../../io/base-fingerprint.js";
import { crashPoint } from "../../io/crash-point.js";
import { writeJsonFile } from "../../io/json-file.js";
import { loadAdapter } from "../../io/peft.js";
import {
  ANSWERING_BYTES_PER_PARAMETER,
  DEFAULT_PARALLEL_ADAPTERS,
  parallelAdaptersWithin,
} from "../../seal/parallel-adapters.js";
import { createProgress, type ProgressStream } from "../../seal/progress.js";
import { openRun } from "../../seal/run-dir.js";
import { parseInstanceName, readArcTasks } from "./data.js";
import {
  type ArcEvalAdapterStatus,
  type ArcEvalInstance,
  type ArcEvalRecord,
  EVAL_COMMAND,
  EVAL_RECORDS,
  FINAL_RESULTS_FILE,
  pairScoreOf,
  validateEvalRecord,
} from "./eval-records.js";
import { type ArcEvalSummary, evalSummaryMarkdown, summarizeEval } from "./eval-summary.js";
import type { ArcTask, Grid } from "./grid.js";
import { type InstancePrediction, type PredictSettings, predictInstances } from "./predict.js";
import {
  type ArcEngine,
  dataFingerprint,
  fingerprintHash,
  loadArcEngine,
  modelFingerprint,
  pairKey,
  readRunOf,
  readRunRecords,
  resolveInstanceNames,
  runIdentity,
  secondsSince,
  selectedTaskIds,
  type TaskSelection,
} from "./run-common.js";
import { referenceFinalResults, testInputCorrect } from "./score.js";
import { type ArcTttRecord, TTT_COMMAND, TTT_RECORDS, validateTttRecord } from "./ttt-records.js";

export interface ArcEvalRequest {
  modelDir: string;
  challengesPath: string;
  solutionsPath: string;
  outDir: string;
  resume: boolean;
  /** The `seal arc ttt` run whose adapters are evaluated; null for the base model (`--no-adapter`). */
  tttDir: string | null;
  /** The tasks (default with a TTT run: its tasks). */
  selection: TaskSelection;
  /** Test inputs `{id}-{k}`, or an instance-set name (run-common.ts); default: every test input of the tasks. */
  instances?: string | readonly string[];
  predict: PredictSettings;
  /**
   * (task, configuration) pairs answered in one decode batch, each with its adapter (default
   * DEFAULT_PARALLEL_ADAPTERS, fewer when their adapters would pass PARALLEL_ADAPTER_BUDGET_BYTES).
   */
  parallelAdapters?: number;
  /** Predictions instead of the model's (tests), per test input; the model and adapters are then not loaded. */
  predictor?: ArcEvalPredictor;
  /** The model already loaded from `modelDir` (reused across runs); default: loaded when there is work. */
  engine?: ArcEngine;
  progressStream?: ProgressStream;
  log?: (line: string) => void;
  /** Test hook: called after each unit's record is appended; throwing from it simulates a crash. */
  afterUnit?: (key: string) => void;
}

export type ArcEvalPredictor = (
  instance: ArcTask,
  pair: { taskId: string; edit: number; adapter: string | null },
) => InstancePrediction;

interface Plan {
  taskIds: string[];
  /** Evaluated test indices per task. */
  testIndices: Map<string, number[]>;
  instances: string[];
  edits: number[];
  ttt: {
    dir: string;
    records: Map<string, ArcTttRecord>;
    source: string;
    identity: string;
    /** The chat template date the adapters were trained with. */
    templateDate: string | null;
    /** The adapters' LoRA settings (null in a run.json that lacks them). */
    lora: LoraConfig | null;
  } | null;
}

function plan(request: ArcEvalRequest, tasks: readonly ArcTask[], modelSha: string): Plan {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  let ttt: Plan["ttt"] = null;
  let tttTasks: string[] | null = null;
  if (request.tttDir !== null) {
    const info = readRunOf(request.tttDir, TTT_COMMAND, "--ttt");
    const trainedOn = fingerprintHash(info.fingerprints.model);
    if (trainedOn !== modelSha)
      throw new Error(
        `${request.tttDir}: its adapters were trained on another model (sha256 ${trainedOn?.slice(0, 12)}…) ` +
          `than --model ${request.modelDir} (${modelSha.slice(0, 12)}…)`,
      );
    const records = readRunRecords(request.tttDir, TTT_RECORDS, validateTttRecord);
    if (records.length === 0) throw new Error(`${request.tttDir}: the TTT run has no finished inner loop yet`);
    const config = info.config as {
      tasks?: string[];
      source?: { kind?: string };
      settings?: { chat?: { date?: string }; lora?: LoraConfig };
    };
    tttTasks = config.tasks ?? [...new Set(records.map((r) => r.taskId))];
    ttt = {
      dir: path.resolve(request.tttDir),
      records: new Map(records.map((r) => [pairKey(r.taskId, r.edit), r])),
      source: config.source?.kind ?? "self-edits",
      identity: runIdentity(info),
      templateDate: config.settings?.chat?.date ?? null,
      lora: config.settings?.lora ?? null,
    };
  }
  const selected = selectedTaskIds(request.selection, tasks, request.challengesPath);
  let instances: string[];
  let taskIds: string[];
  if (request.instances !== undefined) {
    if (selected !== null) throw new Error("give --eval-instances or --tasks/--subset, not both");
    instances = resolveInstanceNames(request.instances, tasks, request.challengesPath);
    taskIds = [...new Set(instances.map((name) => parseInstanceName(name).taskId))];
  } else {
    const chosen = selected ?? tttTasks;
    if (chosen === null)
      throw new Error("choose the tasks: --tasks id,id, --subset train-1b|eval-1b or --eval-instances");
    const missing = chosen.filter((id) => !byId.has(id));
    if (missing.length > 0) throw new Error(`${request.challengesPath}: no task ${missing.join(", ")}`);
    taskIds = chosen;
    instances = taskIds.flatMap((id) => byId.get(id)!.test.map((_, k) => `${id}-${k}`));
  }
  const testIndices = new Map<string, number[]>(taskIds.map((id) => [id, []]));
  for (const name of instances) {
    const { taskId, testIndex } = parseInstanceName(name);
    testIndices.get(taskId)!.push(testIndex);
  }
  const edits = ttt === null ? [0] : [...new Set([...ttt.records.values()].map((r) => r.edit))].sort((a, b) => a - b);
  return { taskIds, testIndices, instances, edits, ttt };
}

function checkPredict(settings: PredictSettings): void {
  const positive: [string, number | null][] = [
    ["batch", settings.batch],
    ["max-new-tokens", settings.maxNewTokens],
    ["max-queries", settings.maxQueries],
    ["max-query-tokens", settings.queries.maxTokens],
  ];
  for (const [name, value] of positive)
    if (value !== null && (!Number.isInteger(value) || value < 1))
      throw new Error(`--${name} must be a positive integer, got ${value}`);
  if (settings.queries.includeN.length === 0) throw new Error("--include-n needs at least one value");
}

/** A test input's record: the two attempts, correctness and every query's answer. */
function evaluatedInstance(
  name: string,
  testIndex: number,
  prediction: InstancePrediction,
  solution: Grid,
): ArcEvalInstance {
  return {
    name,
    testIndex,
    queries: prediction.answers.length,
    fallback: prediction.fallback,
    attempts: prediction.attempts,
    correct: testInputCorrect(prediction.attempts, solution),
    answers: prediction.answers.map((answer) => ({
      augmenter: answer.augmenter,
      inverter: answer.inverter,
      leaveN: answer.leaveN,
      promptTokens: answer.promptTokens,
      text: answer.text,
      finishReason: answer.finishReason,
      parsed: answer.grid !== null,
    })),
  };
}

/** Pairs answered together: K, or fewer when K of the TTT run's adapters would not fit the memory budget. */
function pairsAtOnce(requested: number, ttt: Plan["ttt"], engine: ArcEngine | null): number {
  if (ttt?.lora == null || engine === null) return requested;
  const bytes = ANSWERING_BYTES_PER_PARAMETER * loraParameterCount(engine.loaded.config, ttt.lora);
  return parallelAdaptersWithin(requested, bytes);
}

/** Runs (or resumes) the evaluation; writes records, final_results.json and the summary; returns the summary. */
export function runArcEval(request: ArcEvalRequest): ArcEvalSummary {
  const log = request.log ?? (() => {});
  checkPredict(request.predict);
  const tasks = readArcTasks(request.challengesPath, request.solutionsPath);
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const model = modelFingerprint(request.modelDir);
  const { taskIds, testIndices, instances, edits, ttt } = plan(request, tasks, fingerprintHash(model)!);
  const units = taskIds.flatMap((taskId) => edits.map((edit) => ({ taskId, edit, key: pairKey(taskId, edit) })));
  if (ttt?.templateDate != null && ttt.templateDate !== request.predict.chat.date)
    log(
      `note: the adapters were trained with template date "${ttt.templateDate}", the queries use ` +
        `"${request.predict.chat.date}" (--template-date)`,
    );

  const run = openRun(
    request.outDir,
    {
      command: EVAL_COMMAND,
      config: {
        mode: ttt === null ? "no-adapter" : "adapters",
        tasks: taskIds,
        instances,
        edits,
        predict: request.predict,
        paths: {
          model: path.resolve(request.modelDir),
          challenges: path.resolve(request.challengesPath),
          solutions: path.resolve(request.solutionsPath),
          ttt: ttt?.dir ?? null,
        },
      },
      fingerprints: {
        model,
        challenges: dataFingerprint(request.challengesPath),
        solutions: dataFingerprint(request.solutionsPath),
        ...(ttt === null ? {} : { ttt: { sha256: ttt.identity, path: ttt.dir } }),
      },
    },
    { resume: request.resume, allowDifferent: ["config.paths"] },
  );
  try {
    const records = run.openRecords<ArcEvalRecord>(EVAL_RECORDS, { validate: validateEvalRecord });
    try {
      if (records.truncatedBytes > 0)
        log(`cut a torn last record (${records.truncatedBytes} bytes) from ${records.path}`);
      const done = units.filter((unit) => records.has(unit.key)).length;
      if (run.resumed) log(`resuming ${run.dir}: ${done} of ${units.length} (task, configuration) pairs done`);
      if (done < units.length) {
        const engine = request.predictor
          ? null
          : (request.engine ?? loadArcEngine(request.modelDir, { needsChatTemplate: true }));
        const baseFingerprint =
          engine === null ? null : baseModelFingerprint(engine.loaded.config, engine.loaded.weights);
        const progress = createProgress({ total: units.length, done, name: "pairs", stream: request.progressStream });
        const pending = units.filter((unit) => !records.has(unit.key));
        const parallel = pairsAtOnce(request.parallelAdapters ?? DEFAULT_PARALLEL_ADAPTERS, ttt, engine);
        // each group's test inputs are answered in one decode batch, each with its pair's adapter; records stay one
        // per pair, appended in order, so --resume picks up pair by pair whatever the group size was
        for (let from = 0; from < pending.length; from += parallel) {
          const group = pending.slice(from, from + parallel);
          progress.setLabel(group.length === 1 ? group[0].key : `${group[0].key} +${group.length - 1}`);
          const started = performance.now();
          const pairs = group.map((unit) => {
            const tttRecord = ttt?.records.get(unit.key);
            let status: ArcEvalAdapterStatus = "base-model";
            let adapterDir: string | null = null;
            if (ttt !== null) {
              status = tttRecord === undefined ? "no-config" : tttRecord.outcome.status;
              adapterDir = tttRecord?.adapter == null ? null : path.join(ttt.dir, tttRecord.adapter);
            }
            const task = byId.get(unit.taskId)!;
            // a pair of a TTT run without an adapter is not predicted: scored wrong
            const predicted = ttt === null || adapterDir !== null;
            const adapter =
              engine === null || adapterDir === null
                ? null
                : loadAdapter(adapterDir, engine.loaded.config, {
                    base: baseFingerprint ?? engine.loaded.weights,
                    log,
                  });
            const instances = (predicted ? testIndices.get(unit.taskId)! : []).map((testIndex) => ({
              testIndex,
              instance: { id: `${unit.taskId}-${testIndex}`, train: task.train, test: [task.test[testIndex]] },
            }));
            return { unit, task, status, adapterDir, adapter, instances };
          });
          const items = pairs.flatMap((pair) => pair.instances.map(({ instance }) => ({ pair, instance })));
          const predictions =
            engine === null
              ? items.map(({ pair, instance }) =>
                  request.predictor!(instance, {
                    taskId: pair.unit.taskId,
                    edit: pair.unit.edit,
                    adapter: pair.adapterDir,
                  }),
                )
              : predictInstances(
                  engine.model,
                  engine.tokenizer,
                  items.map(({ pair, instance }) => ({ instance, adapter: pair.adapter })),
                  request.predict,
                );
          const groupSeconds = secondsSince(started) / group.length;
          let next = 0;
          for (const pair of pairs) {
            const evaluated: ArcEvalInstance[] = pair.instances.map(({ testIndex, instance }) => {
              const prediction = predictions[next++];
              crashPoint("predict");
              return evaluatedInstance(instance.id, testIndex, prediction, pair.task.test[testIndex].output!);
            });
            const record: ArcEvalRecord = {
              key: pair.unit.key,
              taskId: pair.unit.taskId,
              edit: pair.unit.edit,
              status: pair.status,
              adapter: pair.adapterDir,
              instances: evaluated,
              correct: false,
              seconds: { predict: groupSeconds, total: groupSeconds },
            };
            record.correct = pairScoreOf(
              record,
              pair.task.test.map((t) => t.output!),
            ).correct;
            records.appendRecord(pair.unit.key, record);
            progress.tick(1, pair.unit.key);
            request.afterUnit?.(pair.unit.key);
          }
        }
        progress.finish();
      }
      const finished = units.flatMap((unit) => records.get(unit.key) ?? []);
      const solutions = new Map(taskIds.map((id) => [id, byId.get(id)!.test.map((t) => t.output!)]));
      const summary = summarizeEval(finished, solutions, {
        units: units.length,
        taskIds,
        edits,
        instances,
        tttSource: ttt?.source ?? null,
        predict: request.predict,
      });
      writeJsonFile(path.join(run.dir, FINAL_RESULTS_FILE), referenceFinalResults(summary.scores));
      run.writeSummary({ markdown: evalSummaryMarkdown(summary), json: summary });
      return summary;
    } finally {
      records.close();
    }
  } finally {
    run.release();
  }
}
