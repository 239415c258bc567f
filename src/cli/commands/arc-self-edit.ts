/**
 * `seal arc self-edit`: sample n self-edits (JSON tool calls) per task into a resumable run folder, with
 * `self_edits.json` in the reference's `final_configs_and_indices.json` layout (domains/arc/run-self-edit.ts).
 */
import type { Command } from "commander";
import { referenceSelfEditsPerTask } from "../../domains/arc/named-sets.js";
import { REFERENCE_SELF_EDIT_SAMPLING } from "../../domains/arc/self-edit-sampling.js";
import { checkOutputFolder } from "../../io/output-path.js";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";
import { addTaskSelectionOptions, stderrLog, type TaskSelectionOptions } from "./arc-options.js";
import { parseNonNegativeNumber, parseProbability } from "./parsers.js";

export interface ArcSelfEditOptions extends TaskSelectionOptions {
  model: string;
  challenges: string;
  solutions?: string;
  out: string;
  n?: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  maxSamples: number;
  skipRepeatedConfigs?: boolean;
  strictJson?: boolean;
  seed: number;
  batch: number;
  resume?: boolean;
}

export function registerArcSelfEdit(group: Command): void {
  const d = REFERENCE_SELF_EDIT_SAMPLING;
  const command = group
    .command("self-edit")
    .description(
      "sample n self-edits per task: the model reads the demonstrations and answers with a JSON tool call " +
        "(augmentations and training settings); unparseable answers are sampled again",
    )
    .requiredOption("--model <dir>", "generator model folder (Hugging Face layout, Llama 3 chat tokens)")
    .requiredOption("--challenges <file>", "ARC challenges file (Kaggle format)")
    .option("--solutions <file>", "its solutions file (checked, not shown to the model)")
    .requiredOption("--out <dir>", "run folder (records.jsonl, self_edits.json, run.json, summary.md/json)");
  addTaskSelectionOptions(command, "tasks to make self-edits for")
    .option(
      "--n <n>",
      "self-edits per task (default: 15 with --subset train-1b, else 5, as the reference)",
      parsePositiveInt,
    )
    .option("--temperature <t>", "sampling temperature", parseNonNegativeNumber, d.temperature)
    .option("--top-p <p>", "nucleus sampling mass", parseProbability, d.topP)
    .option("--max-tokens <n>", "tokens per answer at most", parsePositiveInt, d.maxTokens)
    .option("--max-samples <n>", "answers per task at most, unparseable ones included", parsePositiveInt, d.maxSamples)
    .option("--skip-repeated-configs", "sample again when a config repeats one of the task's earlier ones")
    .option("--strict-json", "accept only an answer that is one JSON object (the reference's json.loads)")
    .option("--seed <n>", "run seed; each task's seed derives from it and the task id", parseNonNegativeInt, d.seed)
    .option("--batch <n>", "sequences decoded together", parsePositiveInt, 16)
    .option("--resume", "continue the run in --out (same settings)")
    .action(async (options: ArcSelfEditOptions) => {
      checkOutputFolder(options.out);
      await runArcSelfEditCommand(options);
    });
}

export async function runArcSelfEditCommand(options: ArcSelfEditOptions): Promise<void> {
  const { runArcSelfEdit } = await import("../../domains/arc/run-self-edit.js");
  const summary = runArcSelfEdit({
    modelDir: options.model,
    challengesPath: options.challenges,
    solutionsPath: options.solutions,
    outDir: options.out,
    resume: options.resume === true,
    selection: { taskIds: options.tasks, subset: options.subset },
    config: {
      sampling: {
        n: options.n ?? referenceSelfEditsPerTask(options.subset),
        temperature: options.temperature,
        topP: options.topP,
        maxTokens: options.maxTokens,
        maxSamples: options.maxSamples,
        skipRepeatedConfigs: options.skipRepeatedConfigs === true,
        strictJson: options.strictJson === true,
        seed: options.seed,
      },
      batch: options.batch,
    },
    log: stderrLog,
  });
  process.stdout.write(
    `${summary.finishedTasks} tasks: ${summary.edits} self-edits (${summary.configs.valid} valid) from ` +
      `${summary.samples} samples, ${summary.rejected} rejected → ${options.out}/${summary.file}\n`,
  );
}
