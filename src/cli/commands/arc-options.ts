/**
 * Options the `seal arc` commands share: task selection (`--tasks`, `--subset`), the TTT inner loop's LoRA, training
 * and data settings, and the prediction settings, each declared once with the reference's defaults, and their
 * conversion into the domain's settings. Only modules without the native addon are imported here.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_TEMPLATE_DATE } from "../../domains/arc/chat-examples.js";
import { ARC_INSTANCE_SETS, ARC_SUBSETS } from "../../domains/arc/named-sets.js";
import type { PredictSettings } from "../../domains/arc/predict.js";
import { QUERY_DEFAULTS } from "../../domains/arc/queries.js";
import type { TttSettings } from "../../domains/arc/ttt.js";
import { TTT_DATA_DEFAULTS } from "../../domains/arc/ttt-data.js";
import { PROJECTIONS, type Projection } from "../../engine/config.js";
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";
import { parseFraction, parseNonNegativeNumber, parseTargets } from "./parsers.js";

/** `--tasks 5582e5ca,6150a2bd` */
export function parseTaskIds(value: string): string[] {
  const ids = value
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  if (ids.length === 0) throw new InvalidArgumentError("expected comma-separated task ids");
  return ids;
}

export function parseSubset(value: string): string {
  if (!Object.hasOwn(ARC_SUBSETS, value))
    throw new InvalidArgumentError(`expected one of ${Object.keys(ARC_SUBSETS).join(", ")}`);
  return value;
}

/** `--eval-instances`: a named set or a comma-separated list of `{task}-{k}`. */
export function parseInstances(value: string): string | string[] {
  if (Object.hasOwn(ARC_INSTANCE_SETS, value)) return value;
  const names = parseTaskIds(value);
  const bad = names.filter((name) => !/^.+-\d+$/.test(name));
  if (bad.length > 0)
    throw new InvalidArgumentError(
      `expected ${Object.keys(ARC_INSTANCE_SETS).join(" or ")}, or test inputs {task}-{k}; not: ${bad.join(", ")}`,
    );
  return names;
}

/** LoRA targets: `q,v,gate,up,down` (the short names), PEFT names `q_proj,…`, or all-linear. */
export function parseArcTargets(value: string): Projection[] {
  const expanded = value
    .split(",")
    .map((name) => name.trim())
    .map((name) => ((PROJECTIONS as readonly string[]).includes(`${name}_proj`) ? `${name}_proj` : name))
    .join(",");
  return parseTargets(expanded);
}

/** `1,2`: positive integers. */
export function parsePositiveIntList(value: string): number[] {
  const parts = value.split(",").map((part) => part.trim());
  if (parts.some((part) => !/^\d+$/.test(part) || Number(part) < 1))
    throw new InvalidArgumentError("expected comma-separated positive integers");
  return parts.map(Number);
}

/** `--targets`, with its default shown as `shown`. */
export function targetsOption(targets: Projection[], shown: string): Option {
  return new Option("--targets <list>", "LoRA targets: q,v,gate,up,down style, PEFT names, or all-linear")
    .argParser(parseArcTargets)
    .default(targets, shown);
}

export interface TaskSelectionOptions {
  tasks?: string[];
  subset?: string;
}

export function addTaskSelectionOptions(command: Command, what: string): Command {
  return command
    .option("--tasks <ids>", `${what}: comma-separated task ids of the challenges file`, parseTaskIds)
    .option(
      "--subset <name>",
      `${what}: the reference's self-edit tasks, train-1b (11 tasks of the 1B training subset) or eval-1b (9 of the evaluation subset)`,
      parseSubset,
    );
}

/** The reference's TTT defaults as CLI values (ttt.ts REFERENCE_TTT; a test checks they agree). */
export const TTT_OPTION_DEFAULTS = {
  rank: 128,
  alpha: 16,
  dropout: 0,
  targets: ["q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"] as Projection[],
  batchSize: 2,
  gradAccum: 1,
  warmupSteps: 11,
  maxGradNorm: 1,
  loraSeed: 0,
  seed: 0,
  maxExamples: TTT_DATA_DEFAULTS.maxTasks,
  maxExampleTokens: TTT_DATA_DEFAULTS.maxTokens,
  leaveN: [...TTT_DATA_DEFAULTS.leaveN],
  permuteN: TTT_DATA_DEFAULTS.permuteN,
  dataSeed: TTT_DATA_DEFAULTS.seed,
  templateDate: DEFAULT_TEMPLATE_DATE,
};

export type TttOptions = typeof TTT_OPTION_DEFAULTS;

/** Declares the inner loop's options (LoRA, training, TTT data, template date). */
export function addTttOptions(command: Command): Command {
  const d = TTT_OPTION_DEFAULTS;
  return command
    .option("--rank <n>", "LoRA rank", parsePositiveInt, d.rank)
    .option("--alpha <x>", "LoRA alpha", parsePositiveNumber, d.alpha)
    .option("--dropout <p>", "LoRA dropout", parseFraction, d.dropout)
    .addOption(targetsOption(d.targets, "q,v,gate,up,down"))
    .option("--batch-size <n>", "TTT examples per micro-batch", parsePositiveInt, d.batchSize)
    .option("--grad-accum <n>", "micro-batches per optimizer step", parsePositiveInt, d.gradAccum)
    .option("--warmup-steps <n>", "linear warmup steps of the cosine schedule", parseNonNegativeInt, d.warmupSteps)
    .option("--max-grad-norm <x>", "gradient clipping (global norm)", parseNonNegativeNumber, d.maxGradNorm)
    .option(
      "--lora-seed <n>",
      "seed of the A matrices every adapter of the run shares",
      parseNonNegativeInt,
      d.loraSeed,
    )
    .option("--seed <n>", "seed of the example order during training", parseNonNegativeInt, d.seed)
    .option(
      "--max-examples <n>",
      "TTT examples per task at most (the reference's cap)",
      parsePositiveInt,
      d.maxExamples,
    )
    .option(
      "--max-example-tokens <n>",
      "drop TTT examples of this many tokens or more",
      parsePositiveInt,
      d.maxExampleTokens,
    )
    .addOption(
      new Option("--leave-n <list>", "leave-n values of the TTT data")
        .argParser(parsePositiveIntList)
        .default(d.leaveN, d.leaveN.join(",")),
    )
    .option("--permute-n <n>", "colour/example-permuted copies per TTT example", parseNonNegativeInt, d.permuteN)
    .option("--data-seed <n>", "seed of the augmentations, permutations and the cap", parseNonNegativeInt, d.dataSeed)
    .option(
      "--template-date <text>",
      "date the Llama 3.x chat template writes (fixed, so runs repeat on any day)",
      d.templateDate,
    );
}

export function tttSettingsFromOptions(options: TttOptions): TttSettings {
  return {
    lora: { rank: options.rank, alpha: options.alpha, dropout: options.dropout, targets: options.targets },
    loraSeed: options.loraSeed,
    batchSize: options.batchSize,
    gradientAccumulation: options.gradAccum,
    warmupSteps: options.warmupSteps,
    maxGradNorm: options.maxGradNorm,
    data: {
      leaveN: options.leaveN,
      permuteN: options.permuteN,
      maxTasks: options.maxExamples,
      maxTokens: options.maxExampleTokens,
      seed: options.dataSeed,
    },
    chat: { date: options.templateDate },
    seed: options.seed,
  };
}

export const PREDICT_OPTION_DEFAULTS = {
  includeN: [...QUERY_DEFAULTS.includeN],
  permuteN: QUERY_DEFAULTS.permuteN,
  querySeed: QUERY_DEFAULTS.seed,
  maxQueryTokens: QUERY_DEFAULTS.maxTokens,
  batch: 8,
  vote: "reference" as "reference" | "ranked",
  templateDate: DEFAULT_TEMPLATE_DATE,
};

export interface PredictOptions {
  includeN: number[];
  permuteN: number;
  querySeed: number;
  maxQueryTokens: number;
  maxQueries?: number;
  maxNewTokens?: number;
  batch: number;
  vote: "reference" | "ranked";
  templateDate: string;
}

/** Declares the prediction options (queries, decoding, voting). */
export function addPredictOptions(command: Command): Command {
  const d = PREDICT_OPTION_DEFAULTS;
  return command
    .addOption(
      new Option("--include-n <list>", "leave-n values of the queries")
        .argParser(parsePositiveIntList)
        .default(d.includeN, d.includeN.join(",")),
    )
    .option("--permute-n <n>", "extra example orders per leave-n variant", parseNonNegativeInt, d.permuteN)
    .option("--query-seed <n>", "seed of the query permutations and transforms", parseNonNegativeInt, d.querySeed)
    .option("--max-query-tokens <n>", "drop queries of this many tokens or more", parsePositiveInt, d.maxQueryTokens)
    .option(
      "--max-queries <n>",
      "keep only the first n queries per test input (quick runs; default all)",
      parsePositiveInt,
    )
    .option(
      "--max-new-tokens <n>",
      "answer tokens at most (default: enough for a 30×30 grid; the reference allows 8192 − prompt)",
      parsePositiveInt,
    )
    .option("--batch <n>", "sequences decoded together", parsePositiveInt, d.batch)
    .addOption(
      new Option("--vote <rule>", "tie rule of the vote: reference (its argsort mechanics) or ranked")
        .choices(["reference", "ranked"])
        .default(d.vote),
    )
    .option("--template-date <text>", "date the Llama 3.x chat template writes", d.templateDate);
}

export function predictSettingsFromOptions(options: PredictOptions): PredictSettings {
  return {
    queries: {
      includeN: options.includeN,
      permuteN: options.permuteN,
      seed: options.querySeed,
      maxTokens: options.maxQueryTokens,
    },
    maxNewTokens: options.maxNewTokens ?? null,
    batch: options.batch,
    chat: { date: options.templateDate },
    vote: { selection: options.vote },
    maxQueries: options.maxQueries ?? null,
  };
}

/** Progress notes and warnings go to stderr; results to stdout. */
export function stderrLog(line: string): void {
  process.stderr.write(`${line}\n`);
}
