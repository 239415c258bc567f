/**
 * `seal knowledge evaluate`: run SEAL's inner loop (self-edit → LoRA → closed-book QA → grade) for every passage ×
 * self-edit × repeat of a self-edit file, into a resumable run folder (see domains/knowledge/evaluate.ts).
 */
import type { Command } from "commander";
import { checkOutputFolder } from "../../io/output-path.js";
import { addParallelAdaptersOption, parseNonNegativeInt, parsePositiveInt } from "../options.js";
import {
  addGraderOptions,
  addInnerLoopOptions,
  type GraderOptions,
  graderFromOptions,
  type InnerLoopOptions,
  innerLoopConfigFromOptions,
  judgeSettingsFromOptions,
} from "./knowledge-options.js";

export interface KnowledgeEvaluateOptions extends InnerLoopOptions, GraderOptions {
  model: string;
  selfEdits: string;
  out: string;
  tokenizer?: string;
  passagesOnly?: boolean;
  update: boolean;
  completions: number;
  repeats: number;
  start: number;
  limit: number;
  seed: number;
  resume?: boolean;
  parallelAdapters: number;
}

export function registerKnowledgeEvaluate(group: Command): void {
  const command = group
    .command("evaluate")
    .description(
      "evaluate self-edits: per passage × self-edit × repeat, train a fresh LoRA and answer the passage's questions " +
        "closed-book; records, macro/micro accuracy and gain into a resumable run folder",
    )
    .requiredOption("--model <dir>", "model folder to update (Hugging Face layout, with its tokenizer)")
    .requiredOption(
      "--self-edits <file>",
      "self-edit file in the reference's format ({title, context, questions, completions, prompt} records); " +
        "with --passages-only / --no-update a plain passage file works too",
    )
    .requiredOption("--out <dir>", "run folder (records.jsonl, run.json, summary.md/json)")
    .option("--tokenizer <path>", "tokenizer folder (default: the model folder)")
    .option("--passages-only", 'naive baseline: an empty self-edit, i.e. train on "{title}\\n{passage}" only')
    .option("--no-update", "baseline: the base model only, nothing is trained")
    .option("--completions <n>", "self-edits per passage (the first n of each record)", parsePositiveInt, 1)
    .option("--repeats <n>", "inner loops per self-edit (each a fresh adapter with its own seed)", parsePositiveInt, 1)
    .option("--start <n>", "first record of the file", parseNonNegativeInt, 0)
    .option("--limit <n>", "records from --start (may change on --resume)", parsePositiveInt, 200);
  addInnerLoopOptions(command, { epochs: 10, batchSize: 1, splitNewlines: true });
  addParallelAdaptersOption(command);
  addGraderOptions(command)
    .option(
      "--seed <n>",
      "run seed; each inner loop's seed derives from it and the record's key",
      parseNonNegativeInt,
      0,
    )
    .option("--resume", "continue the run in --out (same settings; --limit may differ)")
    .action(async (options: KnowledgeEvaluateOptions) => {
      checkOutputFolder(options.out);
      await runKnowledgeEvaluate(options);
    });
}

/** The work behind the command; the domain module (which needs the native addon) is loaded only here. */
export async function runKnowledgeEvaluate(options: KnowledgeEvaluateOptions): Promise<void> {
  if (options.passagesOnly && !options.update) throw new Error("give at most one of --passages-only and --no-update");
  const grader = await graderFromOptions(options);
  const { defaultEvaluationConfig } = await import("../../domains/knowledge/evaluation-config.js");
  const { evaluateKnowledge } = await import("../../domains/knowledge/evaluate.js");
  const { formatInterval } = await import("../../domains/knowledge/report.js");
  const config = defaultEvaluationConfig({
    mode: options.passagesOnly ? "passages-only" : options.update ? "self-edits" : "no-update",
    completions: options.completions,
    repeats: options.repeats,
    start: options.start,
    limit: options.limit,
    ...innerLoopConfigFromOptions(options, defaultEvaluationConfig()),
    grader,
    seed: options.seed,
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const summary = await evaluateKnowledge({
    modelDir: options.model,
    inputPath: options.selfEdits,
    outDir: options.out,
    resume: options.resume === true,
    config,
    tokenizerDir: options.tokenizer,
    judgeSettings: judgeSettingsFromOptions(options),
    parallelAdapters: options.parallelAdapters,
    log,
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`grader: ${summary.grader.kind} (${summary.grader.headline})`);
  out(
    `macro over ${summary.macro.adapted.n} passages: baseline ${formatInterval(summary.macro.baseline)}  ` +
      `adapted ${formatInterval(summary.macro.adapted)}  gain ${formatInterval(summary.macro.gain, true)}`,
  );
  out(
    `micro over ${summary.micro.adapted.n} questions: baseline ${formatInterval(summary.micro.baseline)}  ` +
      `adapted ${formatInterval(summary.micro.adapted)}  gain ${formatInterval(summary.micro.gain, true)}`,
  );
  if (summary.divergedInnerLoops > 0)
    out(
      `diverged inner loops: ${summary.divergedInnerLoops} of ${summary.innerLoops.done} (scored 0; lower --lr or --alpha)`,
    );
  await printJudgeVerdicts(summary, out, `seal knowledge regrade ${options.out} grades them again`);
  out(`wrote ${options.out} (summary.md, summary.json, records.jsonl)`);
}

/** The judge's failed-verdict count (printed for every judge-graded run, 0 included). */
export async function printJudgeVerdicts(
  summary: Pick<
    import("../../domains/knowledge/evaluation-summary.js").EvaluationSummary,
    "judgeVerdicts" | "failedVerdicts"
  >,
  out: (line: string) => void,
  regradeHint: string,
): Promise<void> {
  if (summary.judgeVerdicts === null) return;
  const { describeVerdictCounts } = await import("../../domains/knowledge/judge-failures.js");
  const { baseline, adapted } = summary.failedVerdicts;
  out(
    `judge: ${describeVerdictCounts(summary.judgeVerdicts)}: baseline ${baseline}, adapted ${adapted}` +
      (summary.judgeVerdicts.failed > 0 ? `; left out of the accuracies (${regradeHint})` : ""),
  );
}
