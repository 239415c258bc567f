/**
 * Options the knowledge commands share: the inner loop's LoRA and training (`--rank` … `--max-answer-tokens`) and
 * the grader (`--grader`, `--judge-model`, `--judge-base-url`) with the judge's limits (`--judge-timeout`,
 * `--judge-retries`, `--max-judge-failures`), declared once with per-command defaults, and their conversion into the
 * domain's config. Only types are imported from the domain (its modules need the native addon).
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { GraderConfig, InnerLoopConfig } from "../../domains/knowledge/inner-loop-config.js";
import type { FailureLimit } from "../../domains/knowledge/judge-failures.js";
import type { JudgeSettings } from "../../domains/knowledge/judge-session.js";
import type { Projection } from "../../engine/config.js";
import { parsePositiveInt, parsePositiveNumber } from "../options.js";
import { parseTargets } from "./parsers.js";

/** The parsed inner-loop options (commander's camel-cased names). */
export interface InnerLoopOptions {
  rank: number;
  alpha: number;
  targets: Projection[];
  lr: number;
  epochs: number;
  batchSize: number;
  /** Only where the command declares `--grad-accum`. */
  gradAccum?: number;
  splitNewlines: boolean;
  maxAnswerTokens: number;
}

export interface GraderOptions extends JudgeLimitOptions {
  grader: "local" | "judge";
  judgeModel?: string;
  judgeBaseUrl?: string;
}

/** The judge's limits (commander's names); unset ones take the domain's defaults (60 s, 3 retries, 5%). */
export interface JudgeLimitOptions {
  /** Seconds. */
  judgeTimeout?: number;
  judgeRetries?: number;
  maxJudgeFailures?: FailureLimit;
}

/** The most seconds `--judge-timeout` takes: a day (the judge client's bound). */
const MAX_JUDGE_TIMEOUT_SECONDS = 86_400;
/** The most `--judge-retries`: retries are for a flaky judge; a broken one is stopped anyway. */
const MAX_JUDGE_RETRIES = 20;

/** `--judge-timeout`: seconds in (0, a day]; fractions allowed. */
export function parseJudgeTimeout(value: string): number {
  const seconds = parsePositiveNumber(value);
  if (seconds > MAX_JUDGE_TIMEOUT_SECONDS) {
    throw new InvalidArgumentError(`expected at most ${MAX_JUDGE_TIMEOUT_SECONDS} seconds (a day)`);
  }
  return seconds;
}

/** `--judge-retries`: an integer in 0..20. */
export function parseJudgeRetries(value: string): number {
  const retries = Number(value);
  if (!/^\d+$/.test(value.trim()) || retries > MAX_JUDGE_RETRIES) {
    throw new InvalidArgumentError(`expected an integer from 0 to ${MAX_JUDGE_RETRIES}`);
  }
  return retries;
}

/** `--max-judge-failures`: a count (`10`), a percentage (`5%`) or a fraction below 1 (`0.05`) of the run's verdicts. */
export function parseFailureLimit(value: string): FailureLimit {
  const text = value.trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (percent !== null && Number(percent[1]) <= 100) return { kind: "fraction", value: Number(percent[1]) / 100 };
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return { kind: "count", value: Number(text) };
  if (/^0?\.\d+$/.test(text)) return { kind: "fraction", value: Number(text) };
  throw new InvalidArgumentError(
    "expected a count of failed verdicts (e.g. 10), a percentage of the run's verdicts (e.g. 5%) or a fraction below 1 (e.g. 0.05)",
  );
}

/** A command's defaults (and wording) for the inner-loop options; the LoRA, lr and answer length are the reference's. */
export interface InnerLoopOptionDefaults {
  epochs: number;
  batchSize: number;
  /** Given: declare `--grad-accum <n>` with this default (else gradient accumulation stays the config's). */
  gradAccum?: number;
  /** true: `--no-split-newlines` (lines split by default); false: `--split-newlines` (off by default). */
  splitNewlines: boolean;
  /** Prefix of every help text, e.g. "inner-loop " where the command trains something else too. */
  helpPrefix?: string;
  /** Help of --epochs and --batch-size (default: passes over the training sequences / sequences per step). */
  epochsHelp?: string;
  batchSizeHelp?: string;
  /** Help of the split-newlines option, used as is (default: worded for the per-passage inner loop, prefixed). */
  splitNewlinesHelp?: string;
}

/** Declares --rank, --alpha, --targets, --lr, --epochs, --batch-size, [--grad-accum,] split-newlines, --max-answer-tokens. */
export function addInnerLoopOptions(command: Command, defaults: InnerLoopOptionDefaults): Command {
  const prefix = defaults.helpPrefix ?? "";
  const help = (text: string) => (prefix === "" ? text : `${prefix}${text}`);
  command
    .option("--rank <n>", help("LoRA rank"), parsePositiveInt, 32)
    .option("--alpha <x>", help("LoRA alpha"), parsePositiveNumber, 64)
    .option("--targets <list>", help("LoRA target projections, comma-separated, or all-linear"), parseTargets, [
      "q_proj",
      "v_proj",
    ] as Projection[])
    .option("--lr <x>", help("learning rate (linear decay, no warmup)"), parsePositiveNumber, 1e-3)
    .option(
      "--epochs <n>",
      help(defaults.epochsHelp ?? "passes over the training sequences"),
      parsePositiveInt,
      defaults.epochs,
    )
    .option(
      "--batch-size <n>",
      help(defaults.batchSizeHelp ?? "sequences per optimizer step"),
      parsePositiveInt,
      defaults.batchSize,
    );
  if (defaults.gradAccum !== undefined) {
    command.option("--grad-accum <n>", help("micro-batches per optimizer step"), parsePositiveInt, defaults.gradAccum);
  }
  if (defaults.splitNewlines) {
    command.option(
      "--no-split-newlines",
      defaults.splitNewlinesHelp ??
        help("keep each ---separated piece of a self-edit whole (one sequence per line by default)"),
    );
  } else {
    command.option(
      "--split-newlines",
      defaults.splitNewlinesHelp ?? help("one training sequence per self-edit line"),
      false,
    );
  }
  return command.option("--max-answer-tokens <n>", help("tokens per greedy closed-book answer"), parsePositiveInt, 64);
}

/** Declares --grader, --judge-model and --judge-base-url, and the judge's limits. */
export function addGraderOptions(command: Command): Command {
  command
    .addOption(
      new Option("--grader <kind>", "local: contains-gold (EM and F1 recorded too); judge: an LLM's yes/no")
        .choices(["local", "judge"])
        .default("local"),
    )
    .option("--judge-model <name>", "judge model name (--grader judge)", "gpt-4.1")
    .option("--judge-base-url <url>", "OpenAI-compatible API base URL (default: env OPENAI_BASE_URL, else OpenAI's)");
  return addJudgeLimitOptions(command);
}

/** Declares --judge-timeout, --judge-retries and --max-judge-failures (defaults from the domain when unset). */
export function addJudgeLimitOptions(command: Command): Command {
  return command
    .option("--judge-timeout <seconds>", "time limit of one judge call (default: 60)", parseJudgeTimeout)
    .option(
      "--judge-retries <n>",
      "judge calls retried per question after a failure, with a doubling pause from 1.5 s (default: 3)",
      parseJudgeRetries,
    )
    .option(
      "--max-judge-failures <n|p%>",
      "failed judge verdicts a run may have and still succeed: a count or a percentage of its verdicts (default: 5%)",
      parseFailureLimit,
    );
}

/** The judge settings from the limit options (unset ones left to the domain's defaults). */
export function judgeSettingsFromOptions(options: JudgeLimitOptions): JudgeSettings {
  const settings: JudgeSettings = {};
  if (options.judgeTimeout !== undefined) settings.timeoutMs = options.judgeTimeout * 1000;
  if (options.judgeRetries !== undefined) settings.maxAttempts = options.judgeRetries + 1;
  if (options.maxJudgeFailures !== undefined) settings.maxFailures = options.maxJudgeFailures;
  return settings;
}

/**
 * The inner-loop fields of a command's config from its options; the training fields no option sets (schedule,
 * warmup, clipping, weight decay; gradient accumulation without --grad-accum) come from `defaults`.
 */
export function innerLoopConfigFromOptions(
  options: InnerLoopOptions,
  defaults: Pick<InnerLoopConfig, "train">,
): Pick<InnerLoopConfig, "lora" | "train" | "splitNewlines" | "maxAnswerTokens"> {
  return {
    lora: { rank: options.rank, alpha: options.alpha, dropout: 0, targets: options.targets },
    train: {
      ...defaults.train,
      epochs: options.epochs,
      lr: options.lr,
      batchSize: options.batchSize,
      ...(options.gradAccum === undefined ? {} : { gradientAccumulation: options.gradAccum }),
    },
    splitNewlines: options.splitNewlines,
    maxAnswerTokens: options.maxAnswerTokens,
  };
}

/** The grader config from --grader / --judge-model / --judge-base-url (the base URL: option, env, OpenAI's). */
export async function graderFromOptions(options: GraderOptions): Promise<GraderConfig> {
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
