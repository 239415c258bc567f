/**
 * `seal arc self-edit` (reference-implementation.md §2.2, `self-edit.py`): for each task, the model reads the
 * demonstrations in the hand-built Llama-3 self-edit prompt and answers with JSON tool calls; unparseable answers are
 * sampled again (self-edit-sampling.ts). Self-edits are made once per task, for its first test input, and shared by
 * all its test inputs, as in the reference. A run folder:
 *
 *   run.json           settings, model and data fingerprints (compared on --resume)
 *   records.jsonl      one crash-safe record per finished task, keyed `task-{id}` (answers, rejected ones, seed)
 *   self_edits.json    the reference's `final_configs_and_indices.json` layout, rewritten after every task
 *   summary.md/json    edits, resamples, the configs' choices and validity
 *
 * The prompt starts with the `<|begin_of_text|>` text and is encoded without adding special tokens, so the model
 * sees one BOS (the reference's vLLM call adds a second one).
 */
import path from "node:path";
import { generate } from "../../engine/generate.js";
import { crashPoint } from "../../io/crash-point.js";
import { writeJsonFile } from "../../io/json-file.js";
import type { TextTokenizer } from "../../io/tokenizer.js";
import { createProgress, type ProgressStream } from "../../seal/progress.js";
import { openRun } from "../../seal/run-dir.js";
import { readArcTasks } from "./data.js";
import { selfEditPrompt } from "./messages.js";
import {
  type ArcEngine,
  dataFingerprint,
  loadArcEngine,
  modelFingerprint,
  secondsSince,
  selectedTaskIds,
  type TaskSelection,
  unitSeed,
} from "./run-common.js";
import {
  type ArcSelfEditRunConfig,
  type ArcSelfEditTaskRecord,
  SELF_EDIT_COMMAND,
  SELF_EDIT_FILE,
  SELF_EDIT_RECORDS,
  selfEditTaskKey,
  validateSelfEditTaskRecord,
} from "./self-edit-records.js";
import { type ArcSelfEditSampler, referenceSelfEditFile, sampleTaskSelfEdits } from "./self-edit-sampling.js";
import { type ArcSelfEditSummary, selfEditSummaryMarkdown, summarizeSelfEdits } from "./self-edit-summary.js";

export type { ArcSelfEditRunConfig } from "./self-edit-records.js";

export interface ArcSelfEditRequest {
  modelDir: string;
  challengesPath: string;
  solutionsPath?: string;
  outDir: string;
  resume: boolean;
  selection: TaskSelection;
  config: ArcSelfEditRunConfig;
  /** Answers instead of the model's (tests); the model is then not loaded. */
  sampler?: ArcSelfEditSampler;
  progressStream?: ProgressStream;
  log?: (line: string) => void;
  /** Test hook: called after each task's record is appended; throwing from it simulates a crash. */
  afterTask?: (taskId: string) => void;
}

/** The hand-built prompt's tokens: it carries its own `<|begin_of_text|>`, so the tokenizer adds none. */
export function selfEditPromptIds(tokenizer: TextTokenizer, prompt: string): number[] {
  return tokenizer.encode(prompt, { addSpecialTokens: false });
}

/** The engine's sampler: `count` samples of the prompt sharing one prefill. */
export function engineSelfEditSampler(engine: ArcEngine, config: ArcSelfEditRunConfig): ArcSelfEditSampler {
  const { model, tokenizer, stopTokenIds } = engine;
  const { sampling } = config;
  return (prompt, count, seed) => {
    const ids = selfEditPromptIds(tokenizer, prompt);
    const generations = generate(model, [ids], {
      temperature: sampling.temperature,
      topP: sampling.topP,
      topK: 0,
      maxNewTokens: sampling.maxTokens,
      beyondContext: "stop", // as vLLM, the reference's engine, ends a sequence at max_model_len
      n: count,
      stopTokenIds,
      seed,
      maxBatch: config.batch,
      // raw text, as vLLM returns it (no clean-up of spaces before punctuation)
      decode: (tokens) => tokenizer.decode(tokens, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }),
    });
    return generations
      .sort((a, b) => a.sampleIndex - b.sampleIndex)
      .map((generation) => ({ text: generation.text ?? "", tokens: generation.tokens }));
  };
}

function checkConfig(config: ArcSelfEditRunConfig): void {
  const positive: [string, number][] = [
    ["n", config.sampling.n],
    ["max-tokens", config.sampling.maxTokens],
    ["max-samples", config.sampling.maxSamples],
    ["batch", config.batch],
  ];
  for (const [name, value] of positive)
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  if (config.sampling.maxSamples < config.sampling.n)
    throw new Error(`--max-samples (${config.sampling.maxSamples}) must be at least --n (${config.sampling.n})`);
}

/** Samples (or continues sampling) the self-edits of the selected tasks; returns the summary it wrote. */
export function runArcSelfEdit(request: ArcSelfEditRequest): ArcSelfEditSummary {
  const { config } = request;
  const log = request.log ?? (() => {});
  checkConfig(config);
  const tasks = readArcTasks(request.challengesPath, request.solutionsPath);
  const taskIds = selectedTaskIds(request.selection, tasks, request.challengesPath);
  if (taskIds === null) throw new Error("choose the tasks: --tasks id,id or --subset train-1b|eval-1b");
  const byId = new Map(tasks.map((task) => [task.id, task]));

  const fingerprints: Record<string, ReturnType<typeof dataFingerprint>> = {
    model: modelFingerprint(request.modelDir),
    challenges: dataFingerprint(request.challengesPath),
  };
  if (request.solutionsPath !== undefined) fingerprints.solutions = dataFingerprint(request.solutionsPath);
  const run = openRun(
    request.outDir,
    {
      command: SELF_EDIT_COMMAND,
      config: {
        ...config,
        tasks: taskIds,
        sampler: request.sampler === undefined ? "model" : "injected",
        paths: {
          model: path.resolve(request.modelDir),
          challenges: path.resolve(request.challengesPath),
          solutions: request.solutionsPath === undefined ? null : path.resolve(request.solutionsPath),
        },
      },
      fingerprints,
    },
    { resume: request.resume, allowDifferent: ["config.paths"] },
  );
  try {
    const records = run.openRecords<ArcSelfEditTaskRecord>(SELF_EDIT_RECORDS, { validate: validateSelfEditTaskRecord });
    try {
      if (records.truncatedBytes > 0)
        log(`cut a torn last record (${records.truncatedBytes} bytes) from ${records.path}`);
      const done = taskIds.filter((id) => records.has(selfEditTaskKey(id))).length;
      if (run.resumed) log(`resuming ${run.dir}: ${done} of ${taskIds.length} tasks done`);
      const finished = (): ArcSelfEditTaskRecord[] => taskIds.flatMap((id) => records.get(selfEditTaskKey(id)) ?? []);
      const writeOutputs = (): ArcSelfEditSummary => {
        const list = finished();
        writeJsonFile(path.join(run.dir, SELF_EDIT_FILE), referenceSelfEditFile(list));
        const summary = summarizeSelfEdits(list, taskIds.length, config);
        run.writeSummary({ markdown: selfEditSummaryMarkdown(summary), json: summary });
        return summary;
      };
      if (done < taskIds.length) {
        const sampler =
          request.sampler ??
          engineSelfEditSampler(loadArcEngine(request.modelDir, { needsChatTemplate: false }), config);
        const progress = createProgress({
          total: taskIds.length,
          done,
          name: "tasks",
          stream: request.progressStream,
        });
        for (const taskId of taskIds) {
          const key = selfEditTaskKey(taskId);
          if (records.has(key)) continue;
          progress.setLabel(taskId);
          const started = performance.now();
          const seed = unitSeed(config.sampling.seed, key);
          let generatedTokens = 0;
          const counting: ArcSelfEditSampler = (prompt, count, sampleSeed) => {
            const answers = sampler(prompt, count, sampleSeed);
            for (const answer of answers) generatedTokens += answer.tokens.length;
            crashPoint("sample");
            return answers;
          };
          const task = byId.get(taskId)!;
          const record = sampleTaskSelfEdits(taskId, selfEditPrompt(task.train), counting, config.sampling, seed);
          if (record.edits.length < config.sampling.n)
            log(
              `task ${taskId}: only ${record.edits.length} of ${config.sampling.n} self-edits after ` +
                `${record.samples} samples (--max-samples ${config.sampling.maxSamples})`,
            );
          records.appendRecord(key, { ...record, seed, seconds: secondsSince(started), generatedTokens });
          writeOutputs();
          progress.tick(1, taskId);
          request.afterTask?.(taskId);
        }
        progress.finish();
      }
      return writeOutputs();
    } finally {
      records.close();
    }
  } finally {
    run.release();
  }
}
