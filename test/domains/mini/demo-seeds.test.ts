import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { demoComparisons } from "../../../src/domains/mini/demo-comparisons.js";
import type { DemoCondition, DemoReport } from "../../../src/domains/mini/demo-report.js";
import { combineDemoReports, demoSeedsMarkdown } from "../../../src/domains/mini/demo-seeds.js";
import { meanConfidenceInterval } from "../../../src/seal/stats.js";

const none = { mean: null, lower: null, upper: null, n: 0 };

function condition(key: string, perPassage: (number | null)[]): DemoCondition {
  const present = perPassage.filter((v): v is number => v !== null);
  const mean = present.reduce((s, v) => s + v, 0) / present.length;
  return {
    key,
    label: key,
    macro: { mean, lower: null, upper: null, n: present.length },
    micro: none,
    innerLoops: 0,
    run: key,
    perPassage,
    selfEditFacts: null,
  };
}

function report(conditions: DemoCondition[], fingerprint = "abc"): DemoReport {
  return {
    format: "seal-demo/1",
    command: "seal demo",
    quick: false,
    model: "m",
    modelFingerprint: fingerprint,
    machine: "test",
    minutes: 1.5,
    settings: {},
    conditions,
    comparisons: demoComparisons(conditions),
    rounds: [],
    plots: [],
    examples: [],
    forgetting: null,
  };
}

describe("demo comparisons and seeds", () => {
  it("compares self-edits with passage-only and every SEAL round with base self-edits, passage by passage", () => {
    const comparisons = demoComparisons([
      condition("passage", [0, 0.5, 0.25]),
      condition("base-self-edits", [0.5, 0.5, 0.5]),
      condition("seal-round-1", [1, 0.5, 0.75]),
      condition("seal-round-2", [0.5, 1, null]),
    ]);
    assert.deepEqual(
      comparisons.map((c) => c.label),
      [
        "base-model self-edits − passage only",
        "SEAL round 1 − base-model self-edits",
        "SEAL round 2 − base-model self-edits",
      ],
    );
    const round1 = meanConfidenceInterval([0.5, 0, 0.25]);
    assert.equal(comparisons[1].difference.mean, round1.mean);
    assert.equal(comparisons[1].difference.lower, round1.lower);
    assert.equal(comparisons[2].difference.n, 2); // the passage without a grade is dropped
  });

  it("averages each passage over seeds, then takes intervals over passages", () => {
    const a = report([condition("passage", [0, 0.5, 0.5]), condition("base-self-edits", [0.5, 0.5, 1])]);
    const b = report([condition("passage", [0.5, 0.5, null]), condition("base-self-edits", [0.5, 1, 1])]);
    const combined = combineDemoReports([0, 1], [a, b]);
    const [passage, selfEdits] = combined.conditions;
    assert.deepEqual(passage.perPassage, [0.25, 0.5, 0.5]);
    assert.deepEqual(selfEdits.perPassage, [0.5, 0.75, 1]);
    assert.deepEqual(passage.perSeed, [a.conditions[0].macro.mean, b.conditions[0].macro.mean]);
    assert.equal(selfEdits.macro.mean, 0.75);
    assert.equal(selfEdits.macro.upper, meanConfidenceInterval([0.5, 0.75, 1]).upper);
    assert.equal(combined.comparisons[0].difference.mean, (0.25 + 0.25 + 0.5) / 3);
    assert.deepEqual(combined.minutes, [1.5, 1.5]);
    assert.match(demoSeedsMarkdown(combined), /\| base-self-edits \| 75\.0% ± [\d.]+ \| 66\.7% \| 83\.3% \|/);
  });

  it("refuses seeds of different models or conditions", () => {
    const a = report([condition("passage", [0, 0.5])]);
    assert.throws(() => combineDemoReports([0, 1], [a, report(a.conditions, "def")]), /another model/);
    assert.throws(() => combineDemoReports([0, 1], [a, report([condition("oracle", [0, 1])])]), /conditions/);
    assert.throws(() => combineDemoReports([0, 1], [a, report([condition("passage", [0])])]), /numbers of passages/);
    assert.throws(() => combineDemoReports([0], []), /0 reports for 1 seeds/);
  });
});
