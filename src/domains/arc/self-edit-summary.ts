/** The summary of a `seal arc self-edit` run: edits, resamples, the configs' choices and validity (Markdown). */
import { parseSelfEditConfig } from "./self-edit-config.js";
import {
  type ArcSelfEditRunConfig,
  type ArcSelfEditTaskRecord,
  SELF_EDIT_COMMAND,
  SELF_EDIT_FILE,
} from "./self-edit-records.js";
import type { SelfEditSamplingConfig } from "./self-edit-sampling.js";

export interface ArcSelfEditTaskSummary {
  taskId: string;
  edits: number;
  samples: number;
  rejected: number;
  /** Edits whose config trains (before the TTT data size is known). */
  valid: number;
  /** Distinct configs among the edits. */
  distinct: number;
}

export interface ArcSelfEditSummary {
  command: typeof SELF_EDIT_COMMAND;
  tasks: number;
  finishedTasks: number;
  complete: boolean;
  n: number;
  file: typeof SELF_EDIT_FILE;
  edits: number;
  samples: number;
  rejected: number;
  /** Why answers were rejected, with counts. */
  rejectedReasons: Record<string, number>;
  /** Tasks with fewer than n self-edits (max samples reached). */
  tasksShort: string[];
  configs: {
    valid: number;
    invalid: number;
    invalidReasons: Record<string, number>;
    augmentations: { basic: number; size: number; chain: number; repeat: number };
    strategies: Record<string, number>;
    learningRates: Record<string, number>;
    epochs: Record<string, number>;
  };
  perTask: ArcSelfEditTaskSummary[];
  sampling: SelfEditSamplingConfig;
  timing: { seconds: number; generatedTokens: number; tokensPerSecond: number | null };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** The summary of the finished task records (in task order). */
export function summarizeSelfEdits(
  records: readonly ArcSelfEditTaskRecord[],
  totalTasks: number,
  config: ArcSelfEditRunConfig,
): ArcSelfEditSummary {
  const configs: ArcSelfEditSummary["configs"] = {
    valid: 0,
    invalid: 0,
    invalidReasons: {},
    augmentations: { basic: 0, size: 0, chain: 0, repeat: 0 },
    strategies: {},
    learningRates: {},
    epochs: {},
  };
  const rejectedReasons: Record<string, number> = {};
  const perTask: ArcSelfEditTaskSummary[] = [];
  for (const record of records) {
    let valid = 0;
    const keys = new Set<string>();
    for (const edit of record.edits) {
      const parsed = parseSelfEditConfig(JSON.stringify(edit.config), { strictJson: true });
      if (parsed.kind !== "config") continue;
      keys.add(parsed.key);
      if (parsed.valid) valid++;
      else bump(configs.invalidReasons, parsed.reason ?? "invalid");
      for (const family of ["basic", "size", "chain", "repeat"] as const)
        if (parsed.augmentations[family]) configs.augmentations[family]++;
      bump(configs.strategies, String(edit.config.training.strategy ?? "(missing)"));
      bump(configs.learningRates, String(edit.config.training.learning_rate ?? "(missing)"));
      bump(configs.epochs, String(edit.config.training.num_train_epochs ?? "(missing)"));
    }
    for (const rejected of record.rejected) bump(rejectedReasons, rejected.reason);
    configs.valid += valid;
    configs.invalid += record.edits.length - valid;
    perTask.push({
      taskId: record.taskId,
      edits: record.edits.length,
      samples: record.samples,
      rejected: record.rejected.length,
      valid,
      distinct: keys.size,
    });
  }
  const seconds = records.reduce((sum, r) => sum + r.seconds, 0);
  const generatedTokens = records.reduce((sum, r) => sum + r.generatedTokens, 0);
  return {
    command: SELF_EDIT_COMMAND,
    tasks: totalTasks,
    finishedTasks: records.length,
    complete: records.length === totalTasks,
    n: config.sampling.n,
    file: SELF_EDIT_FILE,
    edits: perTask.reduce((sum, t) => sum + t.edits, 0),
    samples: perTask.reduce((sum, t) => sum + t.samples, 0),
    rejected: perTask.reduce((sum, t) => sum + t.rejected, 0),
    rejectedReasons,
    tasksShort: perTask.filter((t) => t.edits < config.sampling.n).map((t) => t.taskId),
    configs,
    perTask,
    sampling: config.sampling,
    timing: { seconds, generatedTokens, tokensPerSecond: seconds > 0 ? generatedTokens / seconds : null },
  };
}

function countsText(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "—" : entries.map(([key, n]) => `${key} ×${n}`).join(", ");
}

export function selfEditSummaryMarkdown(summary: ArcSelfEditSummary): string {
  const { sampling, configs } = summary;
  const lines = [
    "# ARC self-edits",
    "",
    `${summary.finishedTasks} of ${summary.tasks} tasks${summary.complete ? "" : " (incomplete)"}; ` +
      `${summary.edits} self-edits (n=${summary.n} per task) from ${summary.samples} samples, ` +
      `${summary.rejected} rejected and resampled → \`${summary.file}\` (the reference's final_configs_and_indices.json layout).`,
    "",
    `Sampling: temperature ${sampling.temperature}, top-p ${sampling.topP}, max ${sampling.maxTokens} tokens, ` +
      `at most ${sampling.maxSamples} samples per task, ${sampling.skipRepeatedConfigs ? "repeated configs skipped" : "repeats kept"}, ` +
      `${sampling.strictJson ? "strict JSON" : "JSON found inside other text accepted"}, seed ${sampling.seed}.`,
    "",
    "| task | self-edits | samples | rejected | valid configs | distinct configs |",
    "|---|---:|---:|---:|---:|---:|",
    ...summary.perTask.map(
      (t) => `| ${t.taskId} | ${t.edits} | ${t.samples} | ${t.rejected} | ${t.valid} | ${t.distinct} |`,
    ),
    "",
    `Configs: ${configs.valid} valid, ${configs.invalid} invalid (${countsText(configs.invalidReasons)}).`,
    `Augmentations chosen: basic ${configs.augmentations.basic}, size ${configs.augmentations.size}, ` +
      `chain ${configs.augmentations.chain}, repeat ${configs.augmentations.repeat}.`,
    `Strategies: ${countsText(configs.strategies)}. Learning rates: ${countsText(configs.learningRates)}. ` +
      `Epochs: ${countsText(configs.epochs)}.`,
    `Rejected answers: ${countsText(summary.rejectedReasons)}.`,
  ];
  if (summary.tasksShort.length > 0)
    lines.push("", `Tasks short of n self-edits (max samples reached): ${summary.tasksShort.join(", ")}.`);
  lines.push(
    "",
    `Time: ${summary.timing.seconds.toFixed(1)} s, ${summary.timing.generatedTokens} tokens sampled` +
      (summary.timing.tokensPerSecond === null ? "." : ` (${summary.timing.tokensPerSecond.toFixed(1)} tokens/s).`),
  );
  return lines.join("\n");
}
