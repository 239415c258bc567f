/** The Markdown summary of a `seal knowledge evaluate` run (summary.md; summary.json holds the same numbers). */
import type { EvaluationSummary, IntervalSummary } from "./evaluation-summary.js";

/** Percent with 2 decimals ("46.99"), or "–" when there is no value. */
export function percent(value: number | null): string {
  return value === null ? "–" : (100 * value).toFixed(2);
}

function signedPercent(value: number | null): string {
  if (value === null) return "–";
  const text = (100 * value).toFixed(2);
  return value > 0 ? `+${text}` : text;
}

/** "46.99 [41.20, 52.78]" (percent, 95% t interval), or just the mean when n < 2. */
export function formatInterval(interval: IntervalSummary, signed = false): string {
  const show = signed ? signedPercent : percent;
  if (interval.mean === null) return "–";
  if (interval.lower === null || interval.upper === null) return show(interval.mean);
  return `${show(interval.mean)} [${show(interval.lower)}, ${show(interval.upper)}]`;
}

const MODE_TEXT: Record<EvaluationSummary["mode"], string> = {
  "self-edits": "self-edits from the input file",
  "passages-only": 'passage only (the "naive" baseline: an empty self-edit, training on `{title}\\n{passage}`)',
  "no-update": "no update (the base model only; adapted = baseline)",
};

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderEvaluationMarkdown(summary: EvaluationSummary): string {
  const { config } = summary;
  const lines: string[] = [];
  lines.push("# Knowledge incorporation: self-edit evaluation", "");
  lines.push(`- Mode: ${MODE_TEXT[summary.mode]}`);
  lines.push(`- Grader: **${summary.grader.kind}** — ${summary.grader.headline}`);
  lines.push(`- Input: \`${summary.input}\` (records ${config.start}..${config.start + summary.passages - 1})`);
  lines.push(`- Model: \`${summary.model}\``);
  lines.push(
    `- Passages: ${summary.passagesEvaluated}/${summary.passages}, questions: ${summary.questions}, ` +
      `inner loops: ${summary.innerLoops.done}/${summary.innerLoops.expected}` +
      (summary.complete ? "" : " (**incomplete**: resume the run with --resume)"),
  );
  if (summary.mode !== "no-update") {
    lines.push(
      `- Inner loop: ${config.completions} self-edit(s) × ${config.repeats} repeat(s); LoRA r=${config.lora.rank}, ` +
        `α=${config.lora.alpha}, ${config.lora.targets.join(",")}; lr ${config.train.lr}, ${config.train.epochs} epochs, ` +
        `batch ${config.train.batchSize}; split newlines ${config.splitNewlines}; seed ${config.seed}`,
    );
  }
  lines.push(`- Answers: greedy, at most ${config.maxAnswerTokens} tokens, closed-book (reference QA prompt)`);
  if (summary.judgeVerdicts !== null || summary.failedVerdicts.baseline + summary.failedVerdicts.adapted > 0) {
    const of = summary.judgeVerdicts === null ? "" : ` of ${summary.judgeVerdicts.total} verdicts`;
    lines.push(
      `- Failed judge calls${of} (left out of the accuracies; \`seal knowledge regrade\` grades them again): ` +
        `baseline ${summary.failedVerdicts.baseline}, adapted ${summary.failedVerdicts.adapted}`,
    );
  }
  if (summary.divergedInnerLoops > 0) {
    lines.push(
      `- **Diverged inner loops** (training stopped on a non-finite loss or gradient; scored 0, no adapter used): ` +
        `${summary.divergedInnerLoops} — see each record's \`divergence\`; a lower --lr or --alpha avoids them`,
    );
  }
  if (summary.passageOnlyInnerLoops > 0 && summary.mode === "self-edits") {
    lines.push(`- Empty self-edits scored as passage-only training: ${summary.passageOnlyInnerLoops} inner loop(s)`);
  }
  lines.push("");
  lines.push(`## Accuracy (%, ${summary.grader.kind} grader; 95% t intervals in brackets)`, "");
  lines.push("| average | n | baseline | adapted | gain |", "|---|---|---|---|---|");
  lines.push(
    `| macro over passages (the paper's) | ${summary.macro.adapted.n} | ${formatInterval(summary.macro.baseline)} | ` +
      `${formatInterval(summary.macro.adapted)} | ${formatInterval(summary.macro.gain, true)} |`,
  );
  lines.push(
    `| micro over questions | ${summary.micro.adapted.n} | ${formatInterval(summary.micro.baseline)} | ` +
      `${formatInterval(summary.micro.adapted)} | ${formatInterval(summary.micro.gain, true)} |`,
  );
  lines.push("");
  const local = summary.localMetrics;
  lines.push("## Local metrics (%, micro over questions; whatever the headline grader)", "");
  lines.push("| metric | baseline | adapted |", "|---|---|---|");
  lines.push(`| SQuAD exact match | ${percent(local.baseline.exactMatch)} | ${percent(local.adapted.exactMatch)} |`);
  lines.push(`| SQuAD F1 | ${percent(local.baseline.f1)} | ${percent(local.adapted.f1)} |`);
  lines.push(`| contains gold | ${percent(local.baseline.contains)} | ${percent(local.adapted.contains)} |`);
  lines.push("");
  if (summary.training !== null) {
    lines.push("## Training", "");
    lines.push(
      `Mean loss (nats/token) first epoch ${summary.training.meanFirstEpochLoss.toFixed(4)} → last epoch ` +
        `${summary.training.meanLastEpochLoss.toFixed(4)}; ${summary.training.trainTokens} tokens trained in all.`,
      "",
    );
  }
  const timing = summary.timing;
  lines.push("## Time", "");
  lines.push(
    `Inner loops ${timing.innerLoopSeconds.toFixed(1)} s in all (baseline ${timing.baselineSeconds.toFixed(1)} s, ` +
      `train ${timing.trainSeconds.toFixed(1)} s, answer ${timing.answerSeconds.toFixed(1)} s, grade ` +
      `${timing.gradeSeconds.toFixed(1)} s)` +
      (timing.innerLoopsPerHour === null ? "." : `; ${timing.innerLoopsPerHour.toFixed(1)} inner loops per hour.`),
    "",
  );
  if (summary.plots.length > 0) {
    lines.push("## Plots", "");
    for (const plot of summary.plots) lines.push(`![${plot.replace(/\.svg$/, "")}](${plot})`, "");
  }
  lines.push("## Per passage (%)", "");
  lines.push(
    "| passage | title | questions | inner loops | baseline | adapted | gain |",
    "|---|---|---|---|---|---|---|",
  );
  for (const passage of summary.perPassage) {
    lines.push(
      `| ${passage.passage} | ${escapeCell(passage.title)} | ${passage.questions} | ${passage.innerLoops} | ` +
        `${percent(passage.baseline)} | ${percent(passage.adapted)} | ${signedPercent(passage.gain)} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
