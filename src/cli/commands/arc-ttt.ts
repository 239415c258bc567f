/**
 * `seal arc ttt`: the inner loop (TTT data from the demonstrations, a LoRA adapter per configuration) for every
 * task × self-edit of a self-edit file, or one fixed configuration (`--config`), or a grid of them (`--all-configs`,
 * the oracle), into a resumable run folder with PEFT adapters (domains/arc/run-ttt.ts).
 */
import type { Command } from "commander";
import { checkOutputFolder } from "../../io/output-path.js";
import { addParallelAdaptersOption } from "../options.js";
import {
  addTaskSelectionOptions,
  addTttOptions,
  stderrLog,
  type TaskSelectionOptions,
  type TttOptions,
  tttSettingsFromOptions,
} from "./arc-options.js";

export interface ArcTttOptions extends TaskSelectionOptions, TttOptions {
  model: string;
  challenges: string;
  selfEdits?: string;
  config?: string;
  /** `--all-configs` (the default grid) or `--all-configs FILE`. */
  allConfigs?: boolean | string;
  out: string;
  resume?: boolean;
  parallelAdapters: number;
}

export function registerArcTtt(group: Command): void {
  const command = group
    .command("ttt")
    .description(
      "test-time training: per task × configuration, build the TTT data from the demonstrations and train a LoRA " +
        "adapter (saved in PEFT format under RUN/adapters/{task}/{i}/); configurations from --self-edits, --config " +
        "or --all-configs",
    )
    .requiredOption("--model <dir>", "base model folder (Hugging Face layout, with a chat template)")
    .requiredOption("--challenges <file>", "ARC challenges file (Kaggle format)")
    .option("--self-edits <file>", "self-edit file (seal arc self-edit's self_edits.json, or the reference's)")
    .option("--config <json>", "one fixed configuration for every task: inline JSON or a JSON file (baseline)")
    .option(
      "--all-configs [file]",
      "every configuration of a grid for every task (oracle); default grid: {basic}, {basic,size}, all four " +
        "augmentation families × both strategies × lr 1e-4, 1e-3 × 1, 3 epochs; or a JSON array of configs",
    )
    .requiredOption("--out <dir>", "run folder (adapters/, records.jsonl, run.json, summary.md/json)");
  addTaskSelectionOptions(command, "tasks (default with --self-edits: every task of the file)");
  addParallelAdaptersOption(
    addTttOptions(command),
    "inner loops whose adapters train together over one pass of the base model (results equal one at a time up " +
      "to float rounding; fewer when k adapters' training state would pass 4 GiB)",
  )
    .option("--resume", "continue the run in --out (same settings)")
    .action(async (options: ArcTttOptions) => {
      checkOutputFolder(options.out);
      await runArcTttCommand(options);
    });
}

export async function runArcTttCommand(options: ArcTttOptions): Promise<void> {
  const given = [options.selfEdits, options.config, options.allConfigs].filter((value) => value !== undefined);
  if (given.length !== 1)
    throw new Error("give exactly one of --self-edits FILE, --config JSON and --all-configs [FILE]");
  const grid = await import("../../domains/arc/config-grid.js");
  const source =
    options.selfEdits !== undefined
      ? { kind: "self-edits" as const, path: options.selfEdits }
      : options.config !== undefined
        ? { kind: "fixed" as const, config: grid.parseFixedConfig(options.config) }
        : {
            kind: "all-configs" as const,
            configs:
              typeof options.allConfigs === "string"
                ? grid.readConfigGridFile(options.allConfigs)
                : grid.oracleConfigGrid(),
          };
  const { runArcTtt } = await import("../../domains/arc/run-ttt.js");
  const summary = runArcTtt({
    modelDir: options.model,
    challengesPath: options.challenges,
    outDir: options.out,
    resume: options.resume === true,
    selection: { taskIds: options.tasks, subset: options.subset },
    source,
    settings: tttSettingsFromOptions(options),
    parallelAdapters: options.parallelAdapters,
    log: stderrLog,
  });
  const { counts } = summary;
  process.stdout.write(
    `${summary.finished} inner loops over ${summary.tasks} tasks: ${counts.trained} adapters trained, ` +
      `${counts.zeroEffect} zero-effect, ${counts.noData} without TTT data` +
      `${counts.diverged > 0 ? `, ${counts.diverged} diverged (no adapter)` : ""} → ${options.out}\n`,
  );
}
