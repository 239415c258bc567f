/**
 * `seal train`: supervised finetuning of a LoRA adapter (saved in PEFT format) or, with `--full`, of every weight
 * (saved as a model folder), on a JSONL file of texts, prompt/completion pairs or conversations
 * (see train-data.ts). Writes `train_log.jsonl` (one record per optimizer step) and `train_config.json` (the
 * run's settings and totals) beside the result.
 */
import { type Command, Option } from "commander";
import type { Projection } from "../../engine/config.js";
import type { ScheduleName } from "../../engine/schedule.js";
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";
import { parseFraction, parseLoraRank, parseNonNegativeNumber, parseSchedule, parseTargets } from "./parsers.js";

export const TRAIN_LOG_FILE = "train_log.jsonl";
export const TRAIN_CONFIG_FILE = "train_config.json";

export interface TrainCommandOptions {
  model: string;
  data: string;
  out: string;
  tokenizer?: string;
  full?: boolean;
  dtype: "f32" | "bf16" | "f16";
  rank: number;
  alpha: number;
  dropout: number;
  targets: Projection[];
  lr: number;
  epochs: number;
  batchSize: number;
  gradAccum: number;
  schedule: ScheduleName;
  warmupRatio: number;
  warmupSteps?: number;
  maxGradNorm: number;
  weightDecay: number;
  seed: number;
  shuffle: boolean;
  maxLength: number;
  lossOnAllTokens?: boolean;
  eos: boolean;
  force?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("finetune a LoRA adapter (PEFT format) or, with --full, all weights on a JSONL dataset")
    .requiredOption("--model <dir>", "base model folder (Hugging Face layout, with its tokenizer)")
    .requiredOption(
      "--data <file>",
      'JSONL: {"text": ...}, {"prompt": ..., "completion": ...} or {"messages": [...]} per line',
    )
    .requiredOption("--out <dir>", "folder for the adapter (or, with --full, the model)")
    .option("--tokenizer <path>", "tokenizer folder (default: the model folder)")
    .option("--full", "train every weight and write a model folder instead of an adapter")
    .addOption(
      new Option("--dtype <dtype>", "on-disk dtype of the --full model").choices(["f32", "bf16", "f16"]).default("f32"),
    )
    .option("--rank <n>", "LoRA rank", parseLoraRank, 16)
    .option("--alpha <x>", "LoRA alpha (scale alpha/rank)", parsePositiveNumber, 32)
    .option("--dropout <p>", "LoRA dropout", parseFraction, 0)
    .option("--targets <list>", "LoRA target projections, comma-separated, or all-linear", parseTargets, [
      "q_proj",
      "v_proj",
    ] as Projection[])
    .option("--lr <x>", "peak learning rate", parsePositiveNumber, 1e-4)
    .option("--epochs <n>", "passes over the data", parsePositiveInt, 1)
    .option("--batch-size <n>", "examples per micro-batch", parsePositiveInt, 1)
    .option("--grad-accum <n>", "micro-batches per optimizer step", parsePositiveInt, 1)
    .option(
      "--schedule <name>",
      "constant, constant_with_warmup, linear or cosine",
      parseSchedule,
      "linear" as ScheduleName,
    )
    .option("--warmup-ratio <x>", "warmup as a fraction of the steps", parseFraction, 0)
    .option("--warmup-steps <n>", "warmup steps (overrides --warmup-ratio)", parseNonNegativeInt)
    .option("--max-grad-norm <x>", "clip the global gradient norm to this (0 = off)", parseNonNegativeNumber, 1)
    .option("--weight-decay <x>", "AdamW weight decay", parseNonNegativeNumber, 0)
    .option("--seed <n>", "seed for the adapter's initialisation, shuffling and dropout", parseNonNegativeInt, 0)
    .option("--no-shuffle", "keep the data's order in every epoch")
    .option("--max-length <n>", "cut longer examples to this many tokens", parsePositiveInt, 2048)
    .option("--loss-on-all-tokens", "train on the prompt's tokens too (prompt/completion and messages lines)")
    .option("--no-eos", "do not append the EOS token to texts and completions")
    .option("--force", "overwrite an existing adapter or model in --out")
    .action(async (options: TrainCommandOptions) => {
      const { runTrain } = await import("./train-run.js");
      runTrain(options, (line) => process.stderr.write(`${line}\n`));
    });
}
