/**
 * `seal arc rl`: one round of behaviour cloning (the reference's ReST-EM for ARC): finetune the generator on the
 * self-edits whose adapters solved their task, merge, save a new checkpoint folder (domains/arc/run-rl.ts).
 */
import type { Command } from "commander";
import type { Projection } from "../../engine/config.js";
import type { ScheduleName } from "../../engine/schedule.js";
import { checkOutputFolder } from "../../io/output-path.js";
import type { SftSettings } from "../../seal/sft-merge.js";
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";
import { stderrLog, targetsOption } from "./arc-options.js";
import { parseSchedule } from "./parsers.js";

/** The reference's behaviour-cloning settings as CLI values (run-rl.ts REFERENCE_BC; a test checks they agree). */
export const RL_OPTION_DEFAULTS = {
  rank: 16,
  alpha: 16,
  targets: ["q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"] as Projection[],
  epochs: 8,
  batchSize: 5,
  gradAccum: 1,
  lr: 5e-5,
  schedule: "cosine" as ScheduleName,
  seed: 0,
};

export type RlOptions = typeof RL_OPTION_DEFAULTS;

export interface ArcRlOptions extends RlOptions {
  model: string;
  selfEdits: string;
  eval: string;
  out: string;
  force?: boolean;
}

export function bcSettingsFromOptions(options: RlOptions): SftSettings {
  return {
    lora: { rank: options.rank, alpha: options.alpha, dropout: 0, targets: options.targets },
    lr: options.lr,
    epochs: options.epochs,
    batchSize: options.batchSize,
    gradientAccumulation: options.gradAccum,
    schedule: options.schedule,
    seed: options.seed,
  };
}

export function registerArcRl(group: Command): void {
  const d = RL_OPTION_DEFAULTS;
  group
    .command("rl")
    .description(
      "behaviour cloning (one ReST-EM round): SFT the generator on prompt → response of every solved (task, " +
        "self-edit) pair of an eval run (completion-only loss), merge the LoRA, save a new checkpoint",
    )
    .requiredOption("--model <dir>", "generator model folder (the one that wrote the self-edits)")
    .requiredOption("--self-edits <file>", "the self-edit file the TTT and eval runs used")
    .requiredOption("--eval <dir>", "the seal arc eval run folder (its records say which pairs were solved)")
    .requiredOption("--out <dir>", "new checkpoint folder (merged weights, tokenizer, rl_summary.json)")
    .option("--rank <n>", "LoRA rank", parsePositiveInt, d.rank)
    .option("--alpha <x>", "LoRA alpha", parsePositiveNumber, d.alpha)
    .addOption(targetsOption(d.targets, "q,v,gate,up,down"))
    .option("--epochs <n>", "passes over the solved pairs", parsePositiveInt, d.epochs)
    .option("--batch-size <n>", "rows per micro-batch", parsePositiveInt, d.batchSize)
    .option("--grad-accum <n>", "micro-batches per optimizer step", parsePositiveInt, d.gradAccum)
    .option("--lr <x>", "learning rate (no warmup)", parsePositiveNumber, d.lr)
    .option("--schedule <name>", "learning-rate schedule", parseSchedule, d.schedule)
    .option("--seed <n>", "seed of the LoRA init and the row order", parseNonNegativeInt, d.seed)
    .option("--force", "replace a non-empty --out folder")
    .action(async (options: ArcRlOptions) => {
      checkOutputFolder(options.out);
      await runArcRlCommand(options);
    });
}

export async function runArcRlCommand(options: ArcRlOptions): Promise<void> {
  const { runArcRl } = await import("../../domains/arc/run-rl.js");
  const summary = runArcRl({
    modelDir: options.model,
    selfEditsPath: options.selfEdits,
    evalDir: options.eval,
    outDir: options.out,
    settings: bcSettingsFromOptions(options),
    force: options.force,
    log: stderrLog,
  });
  const { outcome } = summary;
  process.stdout.write(
    `cloned ${summary.pairs.length} solved pairs (of ${summary.evaluatedPairs}): ${outcome.steps} steps, loss ` +
      `${outcome.firstEpochLoss.toFixed(4)} → ${outcome.lastEpochLoss.toFixed(4)} → ${options.out}\n`,
  );
}
