/**
 * The demo over several seeds: each seed is a whole demo (its own self-edit samples, inner-loop initialisations and
 * ReST-EM rounds) on the same held-out passages. Per passage, a condition's accuracy is averaged over the seeds,
 * then the macro mean and the paired comparisons take their intervals over passages — the seeds shrink the noise of
 * sampling and training, the passages stay the unit of the interval.
 */
import { meanConfidenceInterval } from "../../seal/stats.js";
import { type DemoComparison, demoComparisons } from "./demo-comparisons.js";
import { type DemoInterval, type DemoReport, formatDemoInterval, formatDifference, pct } from "./demo-report.js";

export interface DemoSeedsCondition {
  key: string;
  label: string;
  /** Macro accuracy of each seed's demo. */
  perSeed: (number | null)[];
  /** Per-passage accuracy averaged over seeds. */
  perPassage: (number | null)[];
  macro: DemoInterval;
}

export interface DemoSeedsReport {
  format: "seal-demo-seeds/1";
  seeds: number[];
  modelFingerprint: string;
  /** Minutes of each seed's demo, as its report recorded them. */
  minutes: number[];
  conditions: DemoSeedsCondition[];
  comparisons: DemoComparison[];
}

function meanOf(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((s, v) => s + v, 0) / present.length;
}

function intervalOver(values: readonly (number | null)[]): DemoInterval {
  const present = values.filter((v): v is number => v !== null);
  if (present.length < 2) return { mean: meanOf(present), lower: null, upper: null, n: present.length };
  const { mean, lower, upper, n } = meanConfidenceInterval(present);
  return { mean, lower, upper, n };
}

export function combineDemoReports(seeds: readonly number[], reports: readonly DemoReport[]): DemoSeedsReport {
  if (reports.length === 0 || reports.length !== seeds.length)
    throw new Error(`combineDemoReports: ${reports.length} reports for ${seeds.length} seeds`);
  const [first] = reports;
  for (const [i, report] of reports.entries()) {
    if (report.modelFingerprint !== first.modelFingerprint)
      throw new Error(`seed ${seeds[i]}: another model (sha256 ${report.modelFingerprint.slice(0, 12)}…)`);
    const keys = report.conditions.map((c) => c.key).join(",");
    if (keys !== first.conditions.map((c) => c.key).join(","))
      throw new Error(`seed ${seeds[i]}: conditions ${keys} differ from seed ${seeds[0]}'s`);
  }
  const conditions = first.conditions.map((condition, index): DemoSeedsCondition => {
    const runs = reports.map((report) => report.conditions[index]);
    const passages = condition.perPassage.length;
    if (runs.some((run) => run.perPassage.length !== passages))
      throw new Error(`${condition.key}: the seeds evaluated different numbers of passages`);
    const perPassage = Array.from({ length: passages }, (_, p) => meanOf(runs.map((run) => run.perPassage[p])));
    return {
      key: condition.key,
      label: condition.label,
      perSeed: runs.map((run) => run.macro.mean),
      perPassage,
      macro: intervalOver(perPassage),
    };
  });
  return {
    format: "seal-demo-seeds/1",
    seeds: [...seeds],
    modelFingerprint: first.modelFingerprint,
    minutes: reports.map((report) => report.minutes),
    conditions,
    comparisons: demoComparisons(conditions),
  };
}

export function demoSeedsMarkdown(report: DemoSeedsReport): string {
  const seedHeads = report.seeds.map((seed) => `seed ${seed}`);
  return [
    `# SEAL-mini demo over ${report.seeds.length} seeds`,
    "",
    "Each seed is a whole demo (its report is in `seed-N/`). Per held-out passage a condition's accuracy is " +
      "averaged over the seeds; the macro mean and the paired differences take their 95% t-intervals over " +
      `passages. Model sha256 ${report.modelFingerprint.slice(0, 12)}…; minutes per seed: ` +
      `${report.minutes.map((m) => m.toFixed(1)).join(", ")}.`,
    "",
    `| condition | mean over seeds (macro ± 95%) | ${seedHeads.join(" | ")} |`,
    `|---|---|${seedHeads.map(() => "---|").join("")}`,
    ...report.conditions.map(
      (c) => `| ${c.label} | ${formatDemoInterval(c.macro)} | ${c.perSeed.map(pct).join(" | ")} |`,
    ),
    "",
    "| paired comparison (same passages, seeds averaged) | difference |",
    "|---|---|",
    ...report.comparisons.map((c) => `| ${c.label} | ${formatDifference(c.difference)} |`),
    "",
  ].join("\n");
}
