/**
 * `seal arc eval`: predict and score every test input of the tasks with each adapter of a `seal arc ttt` run (or
 * the base model, `--no-adapter`), into a resumable run folder with the reference's final_results.json
 * (domains/arc/run-eval.ts).
 */
import type { Command } from "commander";
import { checkOutputFolder } from "../../io/output-path.js";
import { addParallelAdaptersOption } from "../options.js";
import {
  addPredictOptions,
  addTaskSelectionOptions,
  type PredictOptions,
  parseInstances,
  predictSettingsFromOptions,
  stderrLog,
  type TaskSelectionOptions,
} from "./arc-options.js";

export interface ArcEvalOptions extends TaskSelectionOptions, PredictOptions {
  model: string;
  challenges: string;
  solutions: string;
  ttt?: string;
  /** commander's `--no-adapter`: false when given. */
  adapter: boolean;
  evalInstances?: string | string[];
  out: string;
  resume?: boolean;
  parallelAdapters: number;
}

export function registerArcEval(group: Command): void {
  const command = group
    .command("eval")
    .description(
      "evaluate: per task × configuration of a TTT run, load the adapter, answer augmented queries greedily, vote " +
        "two attempts per test input, score (a task counts only when all its test inputs are right)",
    )
    .requiredOption("--model <dir>", "the TTT run's base model folder")
    .requiredOption("--challenges <file>", "ARC challenges file (Kaggle format)")
    .requiredOption("--solutions <file>", "its solutions file")
    .option("--ttt <dir>", "the seal arc ttt run folder whose adapters are evaluated")
    .option("--no-adapter", "the in-context baseline: the base model, no adapters (give the tasks)")
    .requiredOption("--out <dir>", "run folder (records.jsonl, final_results.json, run.json, summary.md/json)");
  addTaskSelectionOptions(command, "tasks (default: the TTT run's; a task without an adapter is scored wrong)").option(
    "--eval-instances <list>",
    "test inputs to evaluate: {task}-{k},… or the reference's sets train-1b / eval-1b (default: all of the tasks)",
    parseInstances,
  );
  addParallelAdaptersOption(
    addPredictOptions(command),
    "(task, configuration) pairs answered in one decode batch, each with its own adapter (greedy: the same " +
      "answers as one at a time up to float rounding; fewer when k adapters would pass 4 GiB)",
  )
    .option("--resume", "continue the run in --out (same settings)")
    .action(async (options: ArcEvalOptions) => {
      checkOutputFolder(options.out);
      await runArcEvalCommand(options);
    });
}

export async function runArcEvalCommand(options: ArcEvalOptions): Promise<void> {
  if (options.adapter && options.ttt === undefined)
    throw new Error("give --ttt RUN (the adapters to evaluate) or --no-adapter (the base model)");
  if (!options.adapter && options.ttt !== undefined) throw new Error("give --ttt or --no-adapter, not both");
  const { runArcEval } = await import("../../domains/arc/run-eval.js");
  const summary = runArcEval({
    modelDir: options.model,
    challengesPath: options.challenges,
    solutionsPath: options.solutions,
    outDir: options.out,
    resume: options.resume === true,
    tttDir: options.adapter ? (options.ttt ?? null) : null,
    selection: { taskIds: options.tasks, subset: options.subset },
    instances: options.evalInstances,
    predict: predictSettingsFromOptions(options),
    parallelAdapters: options.parallelAdapters,
    log: stderrLog,
  });
  const { successRate: rate, bestOfConfigs: best } = summary;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`success rate ${rate.solved}/${rate.pairs} = ${(100 * rate.rate).toFixed(1)}% of (task, configuration) pairs`);
  out(
    `${summary.tttSource === "all-configs" ? "oracle" : "solved by any configuration"}: ${best.solved}/${best.tasks} tasks`,
  );
  out(`wrote ${options.out} (summary.md, summary.json, final_results.json, records.jsonl)`);
}
