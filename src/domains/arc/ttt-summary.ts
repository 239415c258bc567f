/** The summary of a `seal arc ttt` run: per-task counts of trained / zero-effect / no-data adapters (Markdown). */
import { mean } from "../../seal/stats.js";
import type { TttSettings } from "./ttt.js";
import { type ArcTttRecord, TTT_COMMAND } from "./ttt-records.js";

/** Where a TTT run's configurations came from. */
export type ArcTttSourceKind = "self-edits" | "fixed" | "all-configs";

export interface ArcTttTaskSummary {
  taskId: string;
  configs: number;
  trained: number;
  zeroEffect: number;
  noData: number;
  /** Trainings that diverged (non-finite loss or gradient): no adapter, scored wrong by arc eval. */
  diverged: number;
  /** Mean TTT examples over the task's configs. */
  meanExamples: number | null;
  steps: number;
  /** Mean first and last step loss over the trained configs. */
  meanFirstLoss: number | null;
  meanLastLoss: number | null;
}

export interface ArcTttSummary {
  command: typeof TTT_COMMAND;
  source: ArcTttSourceKind;
  units: number;
  finished: number;
  complete: boolean;
  tasks: number;
  /** Tasks of a self-edit run without any self-edit: no adapters. */
  tasksWithoutConfigs: string[];
  counts: { trained: number; zeroEffect: number; noData: number; diverged: number };
  /** Why configs trained nothing (invalid, or over the step cap), with counts. */
  invalidReasons: Record<string, number>;
  perTask: ArcTttTaskSummary[];
  settings: TttSettings;
  timing: { seconds: number; data: number; train: number; save: number };
}

function meanOrNull(values: readonly number[]): number | null {
  return values.length === 0 ? null : mean(values);
}

export function summarizeTtt(
  records: readonly ArcTttRecord[],
  units: number,
  taskIds: readonly string[],
  withoutConfigs: readonly string[],
  request: { source: { kind: ArcTttSourceKind }; settings: TttSettings },
): ArcTttSummary {
  const invalidReasons: Record<string, number> = {};
  for (const record of records)
    if (!record.outcome.valid && record.outcome.reason !== null)
      invalidReasons[record.outcome.reason] = (invalidReasons[record.outcome.reason] ?? 0) + 1;
  const perTask = taskIds.map((taskId): ArcTttTaskSummary => {
    const list = records.filter((r) => r.taskId === taskId);
    const trained = list.filter((r) => r.outcome.status === "trained");
    return {
      taskId,
      configs: list.length,
      trained: trained.length,
      zeroEffect: list.filter((r) => r.outcome.status === "zero-effect").length,
      noData: list.filter((r) => r.outcome.status === "no-data").length,
      diverged: list.filter((r) => r.outcome.status === "diverged").length,
      meanExamples: meanOrNull(list.map((r) => r.outcome.examples)),
      steps: list.reduce((sum, r) => sum + r.outcome.steps, 0),
      meanFirstLoss: meanOrNull(trained.flatMap((r) => r.outcome.firstLoss ?? [])),
      meanLastLoss: meanOrNull(trained.flatMap((r) => r.outcome.lastLoss ?? [])),
    };
  });
  const total = (pick: (r: ArcTttRecord) => number) => records.reduce((sum, r) => sum + pick(r), 0);
  return {
    command: TTT_COMMAND,
    source: request.source.kind,
    units,
    finished: records.length,
    complete: records.length === units,
    tasks: taskIds.length,
    tasksWithoutConfigs: [...withoutConfigs],
    counts: {
      trained: perTask.reduce((sum, t) => sum + t.trained, 0),
      zeroEffect: perTask.reduce((sum, t) => sum + t.zeroEffect, 0),
      noData: perTask.reduce((sum, t) => sum + t.noData, 0),
      diverged: perTask.reduce((sum, t) => sum + t.diverged, 0),
    },
    invalidReasons,
    perTask,
    settings: request.settings,
    timing: {
      seconds: total((r) => r.seconds.total),
      data: total((r) => r.seconds.data),
      train: total((r) => r.seconds.train),
      save: total((r) => r.seconds.save),
    },
  };
}

function fixed(value: number | null, digits: number): string {
  return value === null ? "—" : value.toFixed(digits);
}

export function tttSummaryMarkdown(summary: ArcTttSummary): string {
  const { settings } = summary;
  const sourceText = {
    "self-edits": "the self-edits of a self-edit file",
    fixed: "one fixed configuration for every task",
    "all-configs": "every configuration of a grid for every task (oracle)",
  }[summary.source];
  const lines = [
    "# ARC test-time training",
    "",
    `${summary.finished} of ${summary.units} inner loops${summary.complete ? "" : " (incomplete)"} over ${summary.tasks} tasks; ` +
      `configurations: ${sourceText}.`,
    `Adapters: ${summary.counts.trained} trained, ${summary.counts.zeroEffect} zero-effect (invalid config or no step), ` +
      `${summary.counts.noData} without TTT data (no adapter)` +
      (summary.counts.diverged > 0
        ? `, ${summary.counts.diverged} whose training diverged (no adapter; lower the learning rate or --alpha).`
        : "."),
    "",
    `LoRA r=${settings.lora.rank}, α=${settings.lora.alpha}, dropout ${settings.lora.dropout}, targets ${settings.lora.targets.join(", ")}; ` +
      `batch ${settings.batchSize} × accumulation ${settings.gradientAccumulation}, cosine schedule, ${settings.warmupSteps} warmup steps; ` +
      `TTT data: leave-n ${settings.data.leaveN.join(",")}, ${settings.data.permuteN} permuted copy, at most ${settings.data.maxTasks} examples ` +
      `under ${settings.data.maxTokens} tokens; template date "${settings.chat.date}".`,
    "",
    "| task | configs | trained | zero-effect | no data | mean examples | steps | first loss | last loss |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...summary.perTask.map(
      (t) =>
        `| ${t.taskId} | ${t.configs} | ${t.trained} | ${t.zeroEffect} | ${t.noData} | ${fixed(t.meanExamples, 1)} | ` +
        `${t.steps} | ${fixed(t.meanFirstLoss, 3)} | ${fixed(t.meanLastLoss, 3)} |`,
    ),
  ];
  const reasons = Object.entries(summary.invalidReasons);
  if (reasons.length > 0) {
    lines.push("", "Configurations that trained nothing:", "");
    for (const [reason, count] of reasons) lines.push(`- ${reason} (×${count})`);
  }
  if (summary.tasksWithoutConfigs.length > 0)
    lines.push("", `Tasks without self-edits (no adapters): ${summary.tasksWithoutConfigs.join(", ")}.`);
  const { timing } = summary;
  lines.push(
    "",
    `Time: ${timing.seconds.toFixed(1)} s (data ${timing.data.toFixed(1)} s, training ${timing.train.toFixed(1)} s, ` +
      `saving ${timing.save.toFixed(1)} s).`,
  );
  return lines.join("\n");
}
