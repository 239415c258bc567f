/**
 * `seal knowledge cpt`: continued pretraining on pooled self-edits of many passages (reference §1.8): one LoRA on
 * the pool, micro accuracy over all their questions (see domains/knowledge/cpt.ts).
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

export interface KnowledgeCptOptions extends InnerLoopOptions, GraderOptions {
  model: string;
  selfEdits: string;
  out: string;
  tokenizer?: string;
  passages: number;
  k: number;
  gradAccum: number;
  seed: number;
  resume?: boolean;
}

export function registerKnowledgeCpt(group: Command): void {
  const command = group
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
    .option("--k <n>", "self-edits per passage (first k non-blank; 0 = passage only)", parseNonNegativeInt, 5);
  addInnerLoopOptions(command, {
    epochs: 3,
    batchSize: 4,
    gradAccum: 2,
    splitNewlines: false,
    epochsHelp: "passes over the pool",
    batchSizeHelp: "sequences per micro-batch",
    splitNewlinesHelp: "one training sequence per self-edit line (the reference's CPT runs did not)",
  });
  addGraderOptions(command)
    .option("--seed <n>", "training seed", parseNonNegativeInt, 0)
    .option("--resume", "continue the run in --out (same settings)")
    .action(async (options: KnowledgeCptOptions) => {
      checkOutputFolder(options.out);
      await runKnowledgeCpt(options);
    });
}

export async function runKnowledgeCpt(options: KnowledgeCptOptions): Promise<void> {
  const grader = await graderFromOptions(options);
  const { defaultCptConfig, runCpt } = await import("../../domains/knowledge/cpt.js");
  const { formatInterval } = await import("../../domains/knowledge/report.js");
  const { describeVerdictCounts } = await import("../../domains/knowledge/judge-failures.js");
  const config = defaultCptConfig({
    passages: options.passages,
    k: options.k,
    ...innerLoopConfigFromOptions(options, defaultCptConfig()),
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
    judgeSettings: judgeSettingsFromOptions(options),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`${summary.passages} passages, ${summary.questions} questions, ${summary.sequences} training sequences`);
  out(
    `micro: baseline ${formatInterval(summary.micro.baseline)}  adapted ${formatInterval(summary.micro.adapted)}  ` +
      `gain ${formatInterval(summary.micro.gain, true)}`,
  );
  if (summary.training.divergence !== undefined)
    out(`the training diverged (adapted answers scored 0, no adapter): ${summary.training.divergence.error}`);
  if (summary.judgeVerdicts !== null) out(`judge: ${describeVerdictCounts(summary.judgeVerdicts)}`);
  out(
    `wrote ${options.out} (summary.md, summary.json, records.jsonl${summary.training.divergence ? "" : ", adapter/"})`,
  );
}
