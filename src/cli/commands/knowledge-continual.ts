/**
 * `seal knowledge continual`: sequential self-edit → LoRA → merge over K passages, evaluating all earlier passages
 * after each edit (reference §4, catastrophic forgetting); see domains/knowledge/continual.ts.
 */
import { type Command, Option } from "commander";
import type { Projection } from "../../engine/config.js";
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";
import { graderFromOptions } from "./knowledge-cpt.js";
import { parseNonNegativeNumber, parseProbability, parseTargets } from "./parsers.js";

export interface KnowledgeContinualOptions {
  model: string;
  data: string;
  out: string;
  tokenizer?: string;
  runs: number;
  sequenceLength: number;
  seed: number;
  rank: number;
  alpha: number;
  targets: Projection[];
  lr: number;
  epochs: number;
  batchSize: number;
  splitNewlines: boolean;
  temperature: number;
  topP: number;
  maxTokens: number;
  maxAnswerTokens: number;
  grader: "local" | "judge";
  judgeModel?: string;
  judgeBaseUrl?: string;
  resume?: boolean;
}

export function registerKnowledgeContinual(group: Command): void {
  group
    .command("continual")
    .description(
      "continual self-edits: per run, K sampled passages edited one after another (self-edit → LoRA → merge), " +
        "evaluating every earlier passage after each edit; (K+1)×K matrix, mean/std over runs, heatmap",
    )
    .requiredOption("--model <dir>", "starting model folder (Hugging Face layout, with its tokenizer)")
    .requiredOption("--data <file>", "passage file ({title, context, questions} records, or SQuAD v1.1 JSON)")
    .requiredOption(
      "--out <dir>",
      "run folder (records.jsonl, adapters/, overall_results.json, forgetting.svg, summary)",
    )
    .option("--tokenizer <path>", "tokenizer folder (default: the model folder)")
    .option("--runs <n>", "independent sequences (run r samples its passages with seed + r)", parsePositiveInt, 8)
    .option("--sequence-length <n>", "passages (edits) per sequence, K", parsePositiveInt, 8)
    .option("--seed <n>", "base seed", parseNonNegativeInt, 42)
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
    .option("--temperature <x>", "self-edit sampling temperature", parseNonNegativeNumber, 1)
    .option("--top-p <x>", "self-edit nucleus sampling", parseProbability, 0.95)
    .option("--max-tokens <n>", "tokens per self-edit", parsePositiveInt, 8192)
    .option("--max-answer-tokens <n>", "tokens per greedy answer", parsePositiveInt, 64)
    .addOption(
      new Option("--grader <kind>", "local: contains-gold (EM and F1 recorded too); judge: an LLM's yes/no")
        .choices(["local", "judge"])
        .default("local"),
    )
    .option("--judge-model <name>", "judge model name (--grader judge)", "gpt-4.1")
    .option("--judge-base-url <url>", "OpenAI-compatible API base URL (default: env OPENAI_BASE_URL, else OpenAI's)")
    .option("--resume", "continue the run in --out (same settings); finished steps' adapters are re-merged")
    .action(async (options: KnowledgeContinualOptions) => {
      await runKnowledgeContinual(options);
    });
}

export async function runKnowledgeContinual(options: KnowledgeContinualOptions): Promise<void> {
  const grader = await graderFromOptions(options);
  const { defaultContinualConfig, runContinual, matrixMarkdown } = await import("../../domains/knowledge/continual.js");
  const base = defaultContinualConfig();
  const config = defaultContinualConfig({
    runs: options.runs,
    sequenceLength: options.sequenceLength,
    seed: options.seed,
    lora: { rank: options.rank, alpha: options.alpha, dropout: 0, targets: options.targets },
    train: { ...base.train, epochs: options.epochs, lr: options.lr, batchSize: options.batchSize },
    splitNewlines: options.splitNewlines,
    temperature: options.temperature,
    topP: options.topP,
    maxTokens: options.maxTokens,
    maxAnswerTokens: options.maxAnswerTokens,
    grader,
  });
  const summary = await runContinual({
    modelDir: options.model,
    dataPath: options.data,
    outDir: options.out,
    resume: options.resume === true,
    config,
    tokenizerDir: options.tokenizer,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${matrixMarkdown(summary.mean, summary.std)}\n`);
  process.stdout.write(`wrote ${options.out} (summary.md, summary.json, overall_results.json, forgetting.svg)\n`);
}
