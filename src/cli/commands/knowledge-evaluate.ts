/**
 * `seal knowledge evaluate`: run SEAL's inner loop (self-edit → LoRA → closed-book QA → grade) for every passage ×
 * self-edit × repeat of a self-edit file, into a resumable run folder (see domains/knowledge/evaluate.ts).
 */
import { type Command, Option } from "commander";
import type { Projection } from "../../engine/config.js";
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";
import { parseTargets } from "./parsers.js";

export interface KnowledgeEvaluateOptions {
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
  rank: number;
  alpha: number;
  targets: Projection[];
  lr: number;
  epochs: number;
  batchSize: number;
  splitNewlines: boolean;
  maxAnswerTokens: number;
  grader: "local" | "judge";
  judgeModel?: string;
  judgeBaseUrl?: string;
  seed: number;
  resume?: boolean;
}

export function registerKnowledgeEvaluate(group: Command): void {
  group
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
    .option("--limit <n>", "records from --start (may change on --resume)", parsePositiveInt, 200)
    .option("--rank <n>", "LoRA rank", parsePositiveInt, 32)
    .option("--alpha <x>", "LoRA alpha", parsePositiveNumber, 64)
    .option("--targets <list>", "LoRA target projections, comma-separated, or all-linear", parseTargets, [
      "q_proj",
      "v_proj",
    ] as Projection[])
    .option("--lr <x>", "learning rate (linear decay, no warmup)", parsePositiveNumber, 1e-3)
    .option("--epochs <n>", "passes over the training sequences", parsePositiveInt, 10)
    .option("--batch-size <n>", "sequences per optimizer step", parsePositiveInt, 1)
    .option(
      "--no-split-newlines",
      "keep each ---separated piece of a self-edit whole (one sequence per line by default)",
    )
    .option("--max-answer-tokens <n>", "tokens per greedy answer", parsePositiveInt, 64)
    .addOption(
      new Option("--grader <kind>", "local: contains-gold (EM and F1 recorded too); judge: an LLM's yes/no")
        .choices(["local", "judge"])
        .default("local"),
    )
    .option("--judge-model <name>", "judge model name (--grader judge)", "gpt-4.1")
    .option("--judge-base-url <url>", "OpenAI-compatible API base URL (default: env OPENAI_BASE_URL, else OpenAI's)")
    .option(
      "--seed <n>",
      "run seed; each inner loop's seed derives from it and the record's key",
      parseNonNegativeInt,
      0,
    )
    .option("--resume", "continue the run in --out (same settings; --limit may differ)")
    .action(async (options: KnowledgeEvaluateOptions) => {
      await runKnowledgeEvaluate(options);
    });
}

/** The work behind the command; the domain module (which needs the native addon) is loaded only here. */
export async function runKnowledgeEvaluate(options: KnowledgeEvaluateOptions): Promise<void> {
  if (options.passagesOnly && !options.update) throw new Error("give at most one of --passages-only and --no-update");
  if (options.grader !== "judge" && options.judgeBaseUrl !== undefined) {
    throw new Error("--judge-base-url needs --grader judge");
  }
  const { defaultEvaluationConfig, evaluateKnowledge } = await import("../../domains/knowledge/evaluate.js");
  const { formatInterval } = await import("../../domains/knowledge/report.js");
  const { DEFAULT_JUDGE_BASE_URL } = await import("../../domains/knowledge/judge.js");
  const base = defaultEvaluationConfig();
  const config = defaultEvaluationConfig({
    mode: options.passagesOnly ? "passages-only" : options.update ? "self-edits" : "no-update",
    completions: options.completions,
    repeats: options.repeats,
    start: options.start,
    limit: options.limit,
    lora: { rank: options.rank, alpha: options.alpha, dropout: 0, targets: options.targets },
    train: { ...base.train, epochs: options.epochs, lr: options.lr, batchSize: options.batchSize },
    splitNewlines: options.splitNewlines,
    maxAnswerTokens: options.maxAnswerTokens,
    grader:
      options.grader === "judge"
        ? {
            kind: "judge",
            model: options.judgeModel ?? "gpt-4.1",
            baseUrl: (options.judgeBaseUrl ?? process.env.OPENAI_BASE_URL ?? DEFAULT_JUDGE_BASE_URL).replace(
              /\/+$/,
              "",
            ),
          }
        : { kind: "local" },
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
  out(`wrote ${options.out} (summary.md, summary.json, records.jsonl)`);
}
