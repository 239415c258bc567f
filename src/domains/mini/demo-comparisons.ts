/**
 * The demo's paired comparisons: conditions evaluated on the same held-out passages, compared passage by passage
 * (mean difference of accuracy with its 95% t-interval). Pairing removes how hard each passage is from the
 * variance, which is what decides whether SEAL beats the base model's own self-edits.
 */
import { pairedDifferenceInterval } from "../../seal/stats.js";
import type { DemoInterval } from "./demo-report.js";

export interface DemoComparison {
  label: string;
  difference: DemoInterval;
}

/** The comparisons the demo reports: self-edits against passage-only, each SEAL round against base self-edits. */
export function demoComparisons(
  conditions: readonly { key: string; perPassage: (number | null)[] }[],
): DemoComparison[] {
  const byKey = new Map(conditions.map((c) => [c.key, c.perPassage]));
  const pairs: [string, string, string][] = [["base-self-edits", "passage", "base-model self-edits − passage only"]];
  for (const { key } of conditions) {
    const round = /^seal-round-(\d+)$/.exec(key);
    if (round !== null) pairs.push([key, "base-self-edits", `SEAL round ${round[1]} − base-model self-edits`]);
  }
  const comparisons: DemoComparison[] = [];
  for (const [a, b, label] of pairs) {
    const x = byKey.get(a);
    const y = byKey.get(b);
    if (x === undefined || y === undefined || x.length !== y.length) continue;
    if (x.filter((value, i) => value !== null && y[i] !== null).length < 2) continue;
    const { mean, lower, upper, n } = pairedDifferenceInterval(x, y);
    comparisons.push({ label, difference: { mean, lower, upper, n } });
  }
  return comparisons;
}
