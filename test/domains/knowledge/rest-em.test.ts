import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type InnerLoopOutcome,
  REFERENCE_SFT,
  restEmSummaryMarkdown,
  selectBestSelfEdits,
  selectionStats,
} from "../../../src/domains/knowledge/rest-em.js";

function outcome(
  passage: number,
  edit: number,
  repeat: number,
  adapted: number | null,
  baseline: number | null,
): InnerLoopOutcome {
  return { passage, edit, repeat, adaptedAccuracy: adapted, baselineAccuracy: baseline };
}

describe("ReST-EM selection", () => {
  const records: InnerLoopOutcome[] = [
    // passage 0: edit 1 has the best mean over repeats (0.75 vs 0.5 vs 0.25); baseline 0.5
    outcome(0, 0, 0, 0.5, 0.5),
    outcome(0, 0, 1, 0.5, 0.5),
    outcome(0, 1, 0, 1, 0.5),
    outcome(0, 1, 1, 0.5, 0.5),
    outcome(0, 2, 0, 0, 0.5),
    outcome(0, 2, 1, 0.5, 0.5),
    // passage 3: a tie between edits 1 and 2 (0.5 each); edit 0 lower; baseline 0.5 → nothing beats it
    outcome(3, 2, 0, 0.5, 0.5),
    outcome(3, 1, 0, 0.5, 0.5),
    outcome(3, 0, 0, 0.25, 0.5),
    // passage 5: every edit at 0 = baseline 0: the first is chosen (stable), it does not beat the baseline
    outcome(5, 0, 0, 0, 0),
    outcome(5, 1, 0, 0, 0),
    outcome(5, 2, 0, 0, 0),
  ];

  it("keeps the self-edit with the highest mean reward, ties to the earliest, whatever the baseline", () => {
    const picks = selectBestSelfEdits(records, 3, { onlyImproving: false });
    assert.deepEqual(
      picks.map((pick) => [pick.passage, pick.best, pick.bestReward, pick.beatsBaseline, pick.kept]),
      [
        [0, 1, 0.75, true, true],
        [3, 1, 0.5, false, true],
        [5, 0, 0, false, true],
      ],
    );
    assert.deepEqual(picks[0].rewards, [0.5, 0.75, 0.25]);
    assert.equal(picks[0].baseline, 0.5);
  });

  it("--only-improving keeps only picks strictly above their baseline", () => {
    const picks = selectBestSelfEdits(records, 3, { onlyImproving: true });
    assert.deepEqual(
      picks.map((pick) => [pick.passage, pick.best, pick.kept]),
      [
        [0, 1, true],
        [3, 1, false],
        [5, 0, false],
      ],
    );
    const stats = selectionStats(picks);
    assert.equal(stats.passages, 3);
    assert.equal(stats.rows, 1);
    assert.equal(stats.picksBeatingBaseline, 1);
    assert.ok(Math.abs((stats.meanRewardChosen as number) - (0.75 + 0.5 + 0) / 3) < 1e-12);
    assert.ok(Math.abs((stats.meanRewardAll as number) - (0.5 + 1.25 / 3) / 3) < 1e-12);
    assert.ok(Math.abs((stats.meanBaseline as number) - 1 / 3) < 1e-12);
  });

  it("skips ungraded inner loops; a passage with no reward has no pick", () => {
    const picks = selectBestSelfEdits(
      [
        outcome(0, 0, 0, null, null),
        outcome(0, 1, 0, null, null),
        outcome(1, 0, 0, null, 0.5),
        outcome(1, 1, 0, 1, 0.5),
      ],
      2,
      { onlyImproving: false },
    );
    assert.deepEqual(picks[0].rewards, [null, null]);
    assert.equal(picks[0].best, null);
    assert.equal(picks[0].kept, false);
    assert.equal(picks[1].best, 1);
    assert.equal(picks[1].beatsBaseline, true);
  });

  it("diverged inner loops score 0 in the selection and are counted per passage, per round and in the summary", () => {
    const diverged = { step: 1, error: "training diverged at step 1" };
    const picks = selectBestSelfEdits(
      [
        { ...outcome(0, 0, 0, 0, 0.5), divergence: diverged },
        outcome(0, 1, 0, 0.5, 0.5),
        { ...outcome(1, 0, 0, 0, 0), divergence: diverged },
        { ...outcome(1, 1, 0, 0, 0), divergence: diverged },
      ],
      2,
      { onlyImproving: false },
    );
    assert.deepEqual(
      picks.map((pick) => [pick.best, pick.rewards, pick.divergedInnerLoops]),
      [
        [1, [0, 0.5], 1],
        [0, [0, 0], 2],
      ],
    );
    const selection = selectionStats(picks);
    assert.equal(selection.divergedInnerLoops, 3);
    const round = { round: 0, generator: "g", student: "g", selection, sft: null, model: null, complete: false };
    const markdown = restEmSummaryMarkdown({
      format: "seal-knowledge-train/1",
      config: {},
      rounds: [round],
      finalModel: null,
    });
    assert.match(markdown, /Diverged inner loops .*: round 0: 3\./);
    assert.equal(selectionStats(selectBestSelfEdits(records, 3, { onlyImproving: false })).divergedInnerLoops, 0);
  });

  it("defaults to the reference's SFT settings and renders a summary", () => {
    assert.equal(REFERENCE_SFT.lora.rank, 64);
    assert.equal(REFERENCE_SFT.lora.alpha, 128);
    assert.equal(REFERENCE_SFT.lora.targets.length, 7);
    assert.equal(REFERENCE_SFT.lr, 3e-4);
    assert.equal(REFERENCE_SFT.epochs, 2);
    assert.equal(REFERENCE_SFT.batchSize * REFERENCE_SFT.gradientAccumulation, 10);
    const markdown = restEmSummaryMarkdown({
      format: "seal-knowledge-train/1",
      config: {},
      rounds: [
        {
          round: 0,
          generator: "g",
          student: "g",
          selection: selectionStats(selectBestSelfEdits(records, 3, { onlyImproving: false })),
          sft: null,
          model: null,
          complete: false,
        },
      ],
      finalModel: null,
    });
    assert.match(markdown, /\| 0 \| 3 \| 33\.33% \|/);
    assert.match(markdown, /\| 1\/3 \| 3 \|/);
  });
});
