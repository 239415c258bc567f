/** `seal demo`: the whole SEAL experiment on the SEAL-mini world (see demo-run.ts). */
import type { Command } from "commander";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";

export interface DemoOptions {
  model?: string;
  out: string;
  quick?: boolean;
  seed: number;
  evalPassages?: number;
  rlPassages?: number;
  rounds?: number;
  k?: number;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "the main job: SEAL on the SEAL-mini world — base model, passage-only, base self-edits, oracle self-edits and " +
        "SEAL after each ReST-EM round, closed-book QA on held-out passages with 95% intervals; reward per round, " +
        "self-edits before/after RL, forgetting heatmap; report.md/report.html (resumable: rerun with the same --out)",
    )
    .option("--model <dir>", "a SEAL-mini model folder (default: the shipped models/seal-mini)")
    .option("--out <dir>", "demo folder", "runs/demo")
    .option("--quick", "a few passages, one short round: checks the mechanics in minutes (not the effect)")
    .option("--seed <n>", "sampling and training seed", parseNonNegativeInt, 0)
    .option("--eval-passages <n>", "held-out passages evaluated (default 40)", parsePositiveInt)
    .option("--rl-passages <n>", "training passages per ReST-EM round (default 32)", parsePositiveInt)
    .option("--rounds <n>", "ReST-EM rounds (default 2)", parsePositiveInt)
    .option("--k <n>", "self-edits sampled per training passage (default 4)", parsePositiveInt)
    .action(async (options: DemoOptions) => {
      const report = await runDemoCommand(options, process.argv.slice(1).join(" "));
      const { formatDemoInterval } = await import("../../domains/mini/demo-report.js");
      const width = Math.max(...report.conditions.map((c) => c.label.length));
      for (const c of report.conditions)
        process.stdout.write(`${c.label.padEnd(width)}  ${formatDemoInterval(c.macro)}\n`);
      process.stdout.write(`wrote ${options.out}/report.md and report.html (${report.minutes.toFixed(1)} min)\n`);
    });
}

export async function runDemoCommand(options: DemoOptions, command = "seal demo") {
  const { DEMO_SETTINGS, QUICK_DEMO_SETTINGS, runDemo, shippedMiniModel } = await import("./demo-run.js");
  const base = options.quick ? QUICK_DEMO_SETTINGS : DEMO_SETTINGS;
  const settings = {
    ...base,
    seed: options.seed,
    ...(options.evalPassages === undefined ? {} : { evalPassages: options.evalPassages }),
    ...(options.rlPassages === undefined ? {} : { rlPassages: options.rlPassages }),
    ...(options.rounds === undefined ? {} : { rounds: options.rounds }),
    ...(options.k === undefined ? {} : { k: options.k }),
  };
  return runDemo({
    model: options.model ?? shippedMiniModel(),
    out: options.out,
    settings,
    quick: options.quick === true,
    command,
  });
}
