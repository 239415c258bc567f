/**
 * `seal knowledge continual`: sequential self-edit → LoRA → merge over K passages, evaluating all earlier passages
 * after each edit (reference §4, catastrophic forgetting); see domains/knowledge/continual.ts.
 */
import type { Command } from "commander";
import { checkOutputFolder } from "../../io/output-path.js";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";
import {
  addGraderOptions,
  addInnerLoopOptions,
  type GraderOptions,
  graderFromOptions,
  type InnerLoopOptions,
  innerLoopConfigFromOptions,
  judgeSettingsFromOptions,
} from "./knowledge-options.js";
import { parseNonNegativeNumber, parseProbability } from "./parsers.js";

export interface KnowledgeContinualOptions extends InnerLoopOptions, GraderOptions {
  model: string;
  data: string;
  out: string;
  tokenizer?: string;
  runs: number;
  sequenceLength: number;
  seed: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  resume?: boolean;
}

export function registerKnowledgeContinual(group: Command): void {
  const command = group
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
    .option("--temperature <x>", "self-edit sampling temperature", parseNonNegativeNumber, 1)
    .option("--top-p <x>", "self-edit nucleus sampling", parseProbability, 0.95)
    .option("--max-tokens <n>", "tokens per self-edit", parsePositiveInt, 8192);
  addInnerLoopOptions(command, { epochs: 10, batchSize: 1, splitNewlines: true });
  addGraderOptions(command)
    .option("--resume", "continue the run in --out (same settings); finished steps' adapters are re-merged")
    .action(async (options: KnowledgeContinualOptions) => {
      checkOutputFolder(options.out);
      await runKnowledgeContinual(options);
    });
}

export async function runKnowledgeContinual(options: KnowledgeContinualOptions): Promise<void> {
  const grader = await graderFromOptions(options);
  const { defaultContinualConfig, runContinual, matrixMarkdown } = await import("../../domains/knowledge/continual.js");
  const config = defaultContinualConfig({
    runs: options.runs,
    sequenceLength: options.sequenceLength,
    seed: options.seed,
    ...innerLoopConfigFromOptions(options, defaultContinualConfig()),
    temperature: options.temperature,
    topP: options.topP,
    maxTokens: options.maxTokens,
    grader,
  });
  const summary = await runContinual({
    modelDir: options.model,
    dataPath: options.data,
    outDir: options.out,
    resume: options.resume === true,
    config,
    tokenizerDir: options.tokenizer,
    judgeSettings: judgeSettingsFromOptions(options),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${matrixMarkdown(summary.mean, summary.std)}\n`);
  if (summary.judgeVerdicts !== null) {
    const { describeVerdictCounts } = await import("../../domains/knowledge/judge-failures.js");
    process.stdout.write(`judge: ${describeVerdictCounts(summary.judgeVerdicts)}\n`);
  }
  process.stdout.write(`wrote ${options.out} (summary.md, summary.json, overall_results.json, forgetting.svg)\n`);
}
