/** `seal demo`: the whole SEAL experiment on the SEAL-mini world (see demo-run.ts). */
import type { Command } from "commander";
import { checkOutputFolder } from "../../io/output-path.js";
import { DEFAULT_PARALLEL_ADAPTERS } from "../../seal/parallel-adapters.js";
import { invocationText } from "../invocation.js";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";

export interface DemoOptions {
  model?: string;
  out: string;
  quick?: boolean;
  seed: number;
  seeds?: number;
  evalPassages?: number;
  rlPassages?: number;
  rounds?: number;
  k?: number;
  parallelAdapters?: number;
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
    .option(
      "--seeds <n>",
      "run the whole demo for n seeds (--seed, --seed + 1, …) into --out/seed-N/, then a combined report " +
        "(per-passage accuracy averaged over seeds; n times the time)",
      parsePositiveInt,
    )
    .option("--eval-passages <n>", "held-out passages evaluated (default 40)", parsePositiveInt)
    .option("--rl-passages <n>", "training passages per ReST-EM round (default 40)", parsePositiveInt)
    .option("--rounds <n>", "ReST-EM rounds (default 2)", parsePositiveInt)
    .option("--k <n>", "self-edits sampled per training passage (default 8)", parsePositiveInt)
    .option(
      "--parallel-adapters <k>",
      `inner loops trained and answered together (default ${DEFAULT_PARALLEL_ADAPTERS}; results equal one at a time ` +
        "up to float rounding)",
      parsePositiveInt,
    )
    .action(async (options: DemoOptions) => {
      checkOutputFolder(options.out);
      const command = invocationText();
      if ((options.seeds ?? 1) > 1) {
        const combined = await runDemoSeeds(options, command);
        const { formatDemoInterval, formatDifference } = await import("../../domains/mini/demo-report.js");
        const width = Math.max(...combined.conditions.map((c) => c.label.length));
        for (const c of combined.conditions)
          process.stdout.write(`${c.label.padEnd(width)}  ${formatDemoInterval(c.macro)}\n`);
        for (const c of combined.comparisons)
          process.stdout.write(`${c.label.padEnd(width)}  ${formatDifference(c.difference)}\n`);
        process.stdout.write(`wrote ${options.out}/report.md (seeds averaged) and seed-N/ (each seed's demo)\n`);
        return;
      }
      const report = await runDemoCommand(options, command);
      const { formatDemoInterval, formatFactRates } = await import("../../domains/mini/demo-report.js");
      const width = Math.max(...report.conditions.map((c) => c.label.length));
      process.stdout.write(`${"condition".padEnd(width)}  ${"accuracy".padEnd(14)}  self-edit facts true / invented\n`);
      for (const c of report.conditions)
        process.stdout.write(
          `${c.label.padEnd(width)}  ${formatDemoInterval(c.macro).padEnd(14)}  ${formatFactRates(c.selfEditFacts)}\n`,
        );
      process.stdout.write(`wrote ${options.out}/report.md and report.html (${report.minutes.toFixed(1)} min)\n`);
    });
}

/** `--seeds n`: the whole demo per seed in out/seed-N/, then the combined report in out/. */
export async function runDemoSeeds(options: DemoOptions, command = "seal demo") {
  const path = await import("node:path");
  const seeds = Array.from({ length: options.seeds ?? 1 }, (_, i) => options.seed + i);
  const reports = [];
  for (const seed of seeds)
    reports.push(await runDemoCommand({ ...options, seed, out: path.join(options.out, `seed-${seed}`) }, command));
  const { combineDemoReports, demoSeedsMarkdown } = await import("../../domains/mini/demo-seeds.js");
  const { writeFileAtomic } = await import("../../io/atomic-file.js");
  const { writeJsonFile } = await import("../../io/json-file.js");
  const combined = combineDemoReports(seeds, reports);
  writeFileAtomic(path.join(options.out, "report.md"), demoSeedsMarkdown(combined));
  writeJsonFile(path.join(options.out, "summary.json"), combined);
  return combined;
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
    ...(options.parallelAdapters === undefined ? {} : { parallelAdapters: options.parallelAdapters }),
  });
}
