/**
 * `seal knowledge cpt`: continued pretraining on pooled self-edits of many passages (reference §1.8): one LoRA on
 * the pool, micro accuracy over all their questions (see domains/knowledge/cpt.ts).
 */
import { type Command, Option } from "commander";
import type { GraderConfig } from "../../domains/knowledge/evaluate.js";
import type { Projection } from "../../engine/config.js";
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";
import { parseTargets } from "./parsers.js";

export interface KnowledgeCptOptions {
  model: string;
  selfEdits: string;
  out: string;
  tokenizer?: string;
  passages: number;
  k: number;
  rank: number;
  alpha: number;
  targets: Projection[];
  lr: number;
  epochs: number;
  batchSize: number;
  gradAccum: number;
  splitNewlines: boolean;
  maxAnswerTokens: number;
  grader: "local" | "judge";
  judgeModel?: string;
  judgeBaseUrl?: string;
  seed: number;
  resume?: boolean;
}

export function registerKnowledgeCpt(group: Command): void {
  group
    .command("cpt")
    .description(
      "continued pretraining: pool the training sequences of N passages × k self-edits, train ONE LoRA, and answer " +
        "all their questions closed-book (micro accuracy, baseline vs adapted); resumable run folder",
    )
    .requiredOption("--model <dir>", "model folder to update (Hugging Face layout, with its tokenizer)")
    .requiredOption("--self-edits <file>", "self-edit file in the reference's format (records with completions)")
    .requiredOption("--out <dir>", "run folder (records.jsonl, adapter/, training.json, loss.svg, summary.md/json)")
    .option("--tokenizer <path>", "tokenizer folder (default: the model folder)")
    .option("--passages <n>", "the first n records of the file", parsePositiveInt, 200)
    .option("--k <n>", "self-edits per passage (first k non-blank; 0 = passage only)", parseNonNegativeInt, 5)
    .option("--rank <n>", "LoRA rank", parsePositiveInt, 32)
    .option("--alpha <x>", "LoRA alpha", parsePositiveNumber, 64)
    .option("--targets <list>", "LoRA target projections, comma-separated, or all-linear", parseTargets, [
      "q_proj",
      "v_proj",
    ] as Projection[])
    .option("--lr <x>", "learning rate (linear decay, no warmup)", parsePositiveNumber, 1e-3)
    .option("--epochs <n>", "passes over the pool", parsePositiveInt, 3)
    .option("--batch-size <n>", "sequences per micro-batch", parsePositiveInt, 4)
    .option("--grad-accum <n>", "micro-batches per optimizer step", parsePositiveInt, 2)
    .option("--split-newlines", "one training sequence per self-edit line (the reference's CPT runs did not)", false)
    .option("--max-answer-tokens <n>", "tokens per greedy answer", parsePositiveInt, 64)
    .addOption(
      new Option("--grader <kind>", "local: contains-gold (EM and F1 recorded too); judge: an LLM's yes/no")
        .choices(["local", "judge"])
        .default("local"),
    )
    .option("--judge-model <name>", "judge model name (--grader judge)", "gpt-4.1")
    .option("--judge-base-url <url>", "OpenAI-compatible API base URL (default: env OPENAI_BASE_URL, else OpenAI's)")
    .option("--seed <n>", "training seed", parseNonNegativeInt, 0)
    .option("--resume", "continue the run in --out (same settings)")
    .action(async (options: KnowledgeCptOptions) => {
      await runKnowledgeCpt(options);
    });
}

export async function graderFromOptions(options: {
  grader: "local" | "judge";
  judgeModel?: string;
  judgeBaseUrl?: string;
}): Promise<GraderConfig> {
  if (options.grader !== "judge") {
    if (options.judgeBaseUrl !== undefined) throw new Error("--judge-base-url needs --grader judge");
    return { kind: "local" };
  }
  const { DEFAULT_JUDGE_BASE_URL } = await import("../../domains/knowledge/judge.js");
  return {
    kind: "judge",
    model: options.judgeModel ?? "gpt-4.1",
    baseUrl: (options.judgeBaseUrl ?? process.env.OPENAI_BASE_URL ?? DEFAULT_JUDGE_BASE_URL).replace(/\/+$/, ""),
  };
}

export async function runKnowledgeCpt(options: KnowledgeCptOptions): Promise<void> {
  const grader = await graderFromOptions(options);
  const { defaultCptConfig, runCpt } = await import("../../domains/knowledge/cpt.js");
  const { formatInterval } = await import("../../domains/knowledge/report.js");
  const base = defaultCptConfig();
  const config = defaultCptConfig({
    passages: options.passages,
    k: options.k,
    lora: { rank: options.rank, alpha: options.alpha, dropout: 0, targets: options.targets },
    train: {
      ...base.train,
      epochs: options.epochs,
      lr: options.lr,
      batchSize: options.batchSize,
      gradientAccumulation: options.gradAccum,
    },
    splitNewlines: options.splitNewlines,
    maxAnswerTokens: options.maxAnswerTokens,
    grader,
    seed: options.seed,
  });
  const summary = await runCpt({
    modelDir: options.model,
    selfEditsPath: options.selfEdits,
    outDir: options.out,
    resume: options.resume === true,
    config,
    tokenizerDir: options.tokenizer,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`${summary.passages} passages, ${summary.questions} questions, ${summary.sequences} training sequences`);
  out(
    `micro: baseline ${formatInterval(summary.micro.baseline)}  adapted ${formatInterval(summary.micro.adapted)}  ` +
      `gain ${formatInterval(summary.micro.gain, true)}`,
  );
  out(`wrote ${options.out} (summary.md, summary.json, records.jsonl, adapter/)`);
}
