/** `seal mini pretrain`: build the SEAL-mini world and pretrain its base model from scratch (resumable). */
import type { Command } from "commander";
import { checkOutputFolder } from "../../io/output-path.js";
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";

export interface MiniPretrainOptions {
  out: string;
  seed: number;
  steps?: number;
  tokensPerStep?: number;
  lr?: number;
  quick?: boolean;
  resume?: boolean;
}

/**
 * The shipped recipe's world.
 * - 400 regular pretraining people with 6 biographies each, so the default steps show every fact ≈ 80 times: a
 *   3.7 M-parameter model then memorises most facts and learns to answer questions about them. (With 2000 people
 *   and 3 biographies it memorised 4% of them: it learned the formats only, and no update could teach it a fact.)
 * - 3000 demonstration-only people, each in one self-edit demonstration and nowhere else: too many to memorise,
 *   so the only way to predict their self-edits is to copy the values from the passage in the prompt — the skill
 *   a held-out passage needs. (With 40 such people, seen ≈ 27 times each, the model memorised their self-edits
 *   and wrote held-out ones with invented values; RL then had little to select.)
 */
const REGULAR_PEOPLE = 400;
const DEMONSTRATION_ONLY_PEOPLE = 3000;
const MINI_WORLD = {
  world: { pretrainPeople: REGULAR_PEOPLE + DEMONSTRATION_ONLY_PEOPLE },
  corpus: {
    biosPerPerson: 6,
    demonstrationOnlyFraction: DEMONSTRATION_ONLY_PEOPLE / (REGULAR_PEOPLE + DEMONSTRATION_ONLY_PEOPLE),
  },
};
/** --quick: a small world and a few steps, to check the mechanics in seconds (tests). */
const QUICK_WORLD = { world: { pretrainPeople: 60, rlPeople: 8, evalPeople: 8 } };

export function registerMiniPretrain(group: Command): void {
  group
    .command("pretrain")
    .description(
      "generate the SEAL-mini world (seeded) and pretrain the mini base model on its corpus from random weights; " +
        "writes world/, model/ (HF layout with tokenizer), loss.svg and a summary",
    )
    .requiredOption("--out <dir>", "run folder (new or empty; with --resume, the run to continue)")
    .option("--seed <n>", "world and initialisation seed", parseNonNegativeInt, 0)
    .option("--steps <n>", "optimizer steps (default 800)", parsePositiveInt)
    .option("--tokens-per-step <n>", "tokens per optimizer step (default 8192)", parsePositiveInt)
    .option("--lr <x>", "peak learning rate, cosine decay (default 3e-3)", parsePositiveNumber)
    .option("--quick", "a 76-person world and 20 steps: checks the mechanics, not a usable model")
    .option("--resume", "continue the run in --out from its last checkpoint")
    .action(async (options: MiniPretrainOptions) => {
      checkOutputFolder(options.out);
      const summary = await runMiniPretrainCommand(options);
      process.stdout.write(
        `model: ${summary.modelDir}\nloss ${summary.firstLoss.toFixed(3)} → ${summary.finalLoss.toFixed(3)}` +
          `${summary.finalEvalLoss === null ? "" : `, held-out ${summary.finalEvalLoss.toFixed(3)}`}\n`,
      );
    });
}

export async function runMiniPretrainCommand(options: MiniPretrainOptions) {
  const { MINI_PRETRAIN_DEFAULTS, runMiniPretrain } = await import("../../domains/mini/pretrain-run.js");
  const quick = options.quick === true;
  const settings = {
    ...MINI_PRETRAIN_DEFAULTS,
    ...(quick ? { steps: 20, tokensPerStep: 2048, warmupSteps: 2, checkpointEvery: 5, evalEvery: 10 } : {}),
    ...(options.steps === undefined ? {} : { steps: options.steps }),
    ...(options.tokensPerStep === undefined ? {} : { tokensPerStep: options.tokensPerStep }),
    ...(options.lr === undefined ? {} : { lr: options.lr }),
  };
  return runMiniPretrain({
    outDir: options.out,
    seed: options.seed,
    settings,
    world: quick ? QUICK_WORLD : MINI_WORLD,
    resume: options.resume === true,
  });
}
