/**
 * The SEAL-mini demo's report: the table of conditions (closed-book QA accuracy on held-out passages, macro mean
 * over passages with its 95% t interval), the plots, example self-edits before and after RL, as Markdown and HTML.
 */
import { escapeXml } from "../../seal/plots.js";
import type { DemoComparison } from "./demo-comparisons.js";
import type { SelfEditFactRates } from "./self-edit-facts.js";

export interface DemoInterval {
  mean: number | null;
  lower: number | null;
  upper: number | null;
  n: number;
}

export interface DemoCondition {
  key: string;
  label: string;
  /** Macro accuracy over passages (the paper's). */
  macro: DemoInterval;
  /** Micro accuracy over questions. */
  micro: DemoInterval;
  /** Inner loops behind the number (0 for the base model). */
  innerLoops: number;
  /** Of those, inner loops whose training diverged (scored 0). */
  divergedInnerLoops?: number;
  run: string;
  /** Accuracy per held-out passage (null: not graded), the numbers behind `macro`, for paired comparisons. */
  perPassage: (number | null)[];
  /** What the condition's self-edits state about their person's facts (null: no self-edits). */
  selfEditFacts: SelfEditFactRates | null;
}

export interface DemoExample {
  title: string;
  before: string;
  after: string;
}

export interface DemoReport {
  format: "seal-demo/1";
  command: string;
  quick: boolean;
  model: string;
  modelFingerprint: string;
  machine: string;
  /** Minutes of every invocation that built the demo (a resumed demo adds its time to the recorded one). */
  minutes: number;
  settings: Record<string, unknown>;
  conditions: DemoCondition[];
  /** Paired differences between conditions on the same held-out passages (macro accuracy, 95% t-interval). */
  comparisons: DemoComparison[];
  /**
   * Per ReST-EM round: mean reward (adapted accuracy) of all sampled self-edits and of the chosen one per passage,
   * and what those self-edits state about their person's facts.
   */
  rounds: {
    round: number;
    meanRewardAll: number | null;
    meanRewardChosen: number | null;
    meanBaseline: number | null;
    factsAll: SelfEditFactRates | null;
    factsChosen: SelfEditFactRates | null;
  }[];
  plots: { file: string; caption: string }[];
  examples: DemoExample[];
  forgetting: { base: (number | null)[]; justEdited: (number | null)[]; finalRow: (number | null)[] } | null;
}

export function pct(value: number | null): string {
  return value === null ? "–" : `${(100 * value).toFixed(1)}%`;
}

/** A difference in percentage points with its interval, e.g. "+6.3 pp [+2.1, +10.5]". */
export function formatDifference(interval: DemoInterval): string {
  const pp = (x: number | null) => (x === null ? "–" : `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(1)}`);
  if (interval.mean === null) return "–";
  return `${pp(interval.mean)} pp [${pp(interval.lower)}, ${pp(interval.upper)}]`;
}

export function formatDemoInterval(interval: DemoInterval): string {
  if (interval.mean === null) return "–";
  if (interval.lower === null || interval.upper === null) return pct(interval.mean);
  const half = (interval.upper - interval.lower) / 2;
  return `${pct(interval.mean)} ± ${(100 * half).toFixed(1)}`;
}

/** "true / invented" shares of the person's facts in a condition's self-edits. */
export function formatFactRates(rates: SelfEditFactRates | null): string {
  return rates === null ? "–" : `${pct(rates.correct)} / ${pct(rates.wrong)}`;
}

/** "12", or "12 (3 diverged)" when some inner loops' training diverged. */
function innerLoopsText(condition: DemoCondition): string {
  const diverged = condition.divergedInnerLoops ?? 0;
  return diverged > 0 ? `${condition.innerLoops} (${diverged} diverged)` : String(condition.innerLoops);
}

export function demoMarkdown(report: DemoReport): string {
  const lines = [
    "# SEAL-mini demo",
    "",
    `Held-out passages of the SEAL-mini world; closed-book QA accuracy after each kind of update ` +
      `(macro mean over passages ± 95% t-interval half-width; micro over questions). Model \`${report.model}\` ` +
      `(sha256 ${report.modelFingerprint.slice(0, 12)}…). ${report.quick ? "**--quick: mechanics only, not the effect.**" : ""}`,
    "",
    "| condition | macro accuracy | micro accuracy | inner loops | facts in self-edits: true / invented |",
    "|---|---|---|---|---|",
    ...report.conditions.map(
      (c) =>
        `| ${c.label} | ${formatDemoInterval(c.macro)} | ${formatDemoInterval(c.micro)} | ${innerLoopsText(c)} | ` +
        `${formatFactRates(c.selfEditFacts)} |`,
    ),
    "",
    "The last column reads the self-edits themselves: the share of the person's six facts they state with the " +
      "true value, and the share they state only with an invented value (another value of the same kind).",
    "",
    "Paired differences (same passages; mean difference of macro accuracy, 95% t-interval):",
    "",
    "| comparison | difference |",
    "|---|---|",
    ...report.comparisons.map((c) => `| ${c.label} | ${formatDifference(c.difference)} |`),
    "",
    "## ReST-EM rounds (training passages)",
    "",
    "| round | baseline | reward, all sampled self-edits | reward, chosen self-edits | facts true / invented, all | facts true / invented, chosen |",
    "|---|---|---|---|---|---|",
    ...report.rounds.map(
      (r) =>
        `| ${r.round + 1} | ${pct(r.meanBaseline)} | ${pct(r.meanRewardAll)} | ${pct(r.meanRewardChosen)} | ` +
        `${formatFactRates(r.factsAll)} | ${formatFactRates(r.factsChosen)} |`,
    ),
    "",
  ];
  for (const plot of report.plots) lines.push(`![${plot.caption}](${plot.file})`, "", `*${plot.caption}*`, "");
  if (report.forgetting !== null) {
    lines.push(
      "## Continual self-edits (forgetting)",
      "",
      `Base model on each passage: ${report.forgetting.base.map(pct).join(" ")}; just after its edit: ` +
        `${report.forgetting.justEdited.map(pct).join(" ")}; after all edits: ${report.forgetting.finalRow.map(pct).join(" ")}.`,
      "",
    );
  }
  if (report.examples.length > 0) {
    lines.push("## Self-edits before and after RL (same held-out passage)", "");
    for (const example of report.examples) {
      lines.push(`### ${example.title}`, "", "Base model:", "", "```text", example.before, "```", "");
      lines.push("After ReST-EM:", "", "```text", example.after, "```", "");
    }
  }
  lines.push(
    "## How this was made",
    "",
    `\`${report.command}\` on ${report.machine}, ${report.minutes.toFixed(1)} minutes.`,
    "",
    "```json",
    JSON.stringify(report.settings, null, 2),
    "```",
    "",
  );
  return lines.join("\n");
}

/** An SVG document as an element inside HTML: no XML prolog, labelled for screen readers. */
function inlineSvg(svg: string, caption: string): string {
  const element = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, "").trim();
  return element.replace(/^<svg\b/, `<svg role="img" aria-label="${escapeXml(caption)}"`);
}

/** The report as one self-contained page; readPlot gives each plot's SVG text (inlined, not linked). */
export function demoHtml(report: DemoReport, readPlot: (file: string) => string): string {
  const e = escapeXml;
  const rows = report.conditions
    .map(
      (c) =>
        `<tr><td>${e(c.label)}</td><td>${e(formatDemoInterval(c.macro))}</td><td>${e(formatDemoInterval(c.micro))}</td>` +
        `<td>${e(innerLoopsText(c))}</td><td>${e(formatFactRates(c.selfEditFacts))}</td></tr>`,
    )
    .join("\n");
  const comparisons = report.comparisons
    .map((c) => `<tr><td>${e(c.label)}</td><td>${e(formatDifference(c.difference))}</td></tr>`)
    .join("\n");
  const plots = report.plots
    .map((p) => `<figure>${inlineSvg(readPlot(p.file), p.caption)}<figcaption>${e(p.caption)}</figcaption></figure>`)
    .join("\n");
  const examples = report.examples
    .map(
      (x) =>
        `<h3>${e(x.title)}</h3><table class="pair"><tr><th>base model</th><th>after ReST-EM</th></tr>` +
        `<tr><td><pre>${e(x.before)}</pre></td><td><pre>${e(x.after)}</pre></td></tr></table>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SEAL-mini demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
pre{white-space:pre-wrap;font-size:12px;margin:0}table.pair td{width:50%}figure{display:inline-block;margin:1em}</style>
</head><body>
<h1>SEAL-mini demo</h1>
<p>Closed-book QA accuracy on held-out passages (macro mean over passages ± 95% interval; micro over questions).
Model <code>${e(report.model)}</code>.${report.quick ? " <strong>--quick: mechanics only.</strong>" : ""}</p>
<table><tr><th>condition</th><th>macro accuracy</th><th>micro accuracy</th><th>inner loops</th>
<th>facts in self-edits: true / invented</th></tr>
${rows}
</table>
<p>Paired differences on the same passages (95% t-interval):</p>
<table><tr><th>comparison</th><th>difference</th></tr>
${comparisons}
</table>
${plots}
${examples === "" ? "" : `<h2>Self-edits before and after RL</h2>\n${examples}`}
<p>${e(report.command)} on ${e(report.machine)}, ${report.minutes.toFixed(1)} minutes.</p>
</body></html>
`;
}
