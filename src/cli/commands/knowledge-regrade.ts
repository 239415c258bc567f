/**
 * `seal knowledge regrade RUN`: ask the judge again for the failed verdicts of a `seal knowledge evaluate` run and
 * rewrite its records and summary (see domains/knowledge/evaluation-regrade.ts).
 */
import type { Command } from "commander";
import { printJudgeVerdicts } from "./knowledge-evaluate.js";
import { addJudgeLimitOptions, type JudgeLimitOptions, judgeSettingsFromOptions } from "./knowledge-options.js";

export interface KnowledgeRegradeOptions extends JudgeLimitOptions {
  judgeBaseUrl?: string;
}

export function registerKnowledgeRegrade(group: Command): void {
  const command = group
    .command("regrade")
    .description(
      "grade the failed judge verdicts of a knowledge evaluate run again (the answers are in its records) and " +
        "rewrite its records and summary",
    )
    .argument("<run>", "run folder of a knowledge evaluate run graded with --grader judge")
    .option("--judge-base-url <url>", "ask the judge here instead of at the run's base URL (same model)");
  addJudgeLimitOptions(command).action(async (run: string, options: KnowledgeRegradeOptions) => {
    await runKnowledgeRegrade(run, options);
  });
}

export async function runKnowledgeRegrade(run: string, options: KnowledgeRegradeOptions): Promise<void> {
  const { regradeEvaluationRun } = await import("../../domains/knowledge/evaluation-regrade.js");
  const { formatInterval } = await import("../../domains/knowledge/report.js");
  const { summary } = await regradeEvaluationRun({
    runDir: run,
    judgeSettings: judgeSettingsFromOptions(options),
    ...(options.judgeBaseUrl === undefined ? {} : { baseUrl: options.judgeBaseUrl.replace(/\/+$/, "") }),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `macro over ${summary.macro.adapted.n} passages: baseline ${formatInterval(summary.macro.baseline)}  ` +
      `adapted ${formatInterval(summary.macro.adapted)}  gain ${formatInterval(summary.macro.gain, true)}`,
  );
  await printJudgeVerdicts(summary, out, "run regrade again once the judge works");
  out(`wrote ${run} (records.jsonl, summary.md, summary.json)`);
}
