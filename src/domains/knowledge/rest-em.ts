/**
 * ReST-EM for knowledge incorporation (reference-implementation.md §1.7): the E-step keeps, per training passage,
 * the self-edit whose inner loops reached the highest mean adapted accuracy; the M-step finetunes the generator on
 * prompt → chosen completion (completion-only loss, LoRA r=64 α=128 on all seven projections, lr 3e-4, 2 epochs,
 * effective batch 10) and merges the LoRA into a new checkpoint.
 *
 * Selection (`build_SFT_dataset.py`): per passage, each self-edit's reward is the mean over its repeats of the
 * adapted accuracy; the top-1 is kept with a stable sort, so ties go to the earliest self-edit. The reference keeps
 * it whatever the baseline; `onlyImproving` (an option, off by default) keeps it only when its reward is strictly
 * above the passage's baseline accuracy.
 */
import { PROJECTIONS, type Projection } from "../../engine/config.js";
import { histogramSvg, lineChartSvg } from "../../seal/plots.js";
import type { SftOutcome, SftSettings } from "../../seal/sft-merge.js";
import { mean } from "../../seal/stats.js";

export const ALL_PROJECTIONS: readonly Projection[] = PROJECTIONS;

/** The reference's `train_SFT.py` settings: LoRA r=64, α=128, dropout 0, all projections, lr 3e-4, 2 epochs, 1×10. */
export const REFERENCE_SFT: Readonly<SftSettings> = {
  lora: { rank: 64, alpha: 128, dropout: 0, targets: [...ALL_PROJECTIONS] },
  lr: 3e-4,
  epochs: 2,
  batchSize: 1,
  gradientAccumulation: 10,
  schedule: "linear",
  seed: 0,
};

// ---------------------------------------------------------------------------------------------------------------
// E-step: selection

/** What selection needs of one inner-loop record (a subset of evaluation-records.ts's EvaluationRecord). */
export interface InnerLoopOutcome {
  passage: number;
  edit: number;
  repeat: number;
  baselineAccuracy: number | null;
  adaptedAccuracy: number | null;
  /** Present when the inner loop diverged (its adapted accuracy is then 0: zero reward). */
  divergence?: unknown;
}

/** One passage's outcome of the E-step. */
export interface PassagePick {
  passage: number;
  /** Baseline accuracy (the base/student model without an update); null when it could not be graded. */
  baseline: number | null;
  /** Mean adapted accuracy over repeats, per self-edit (null when no repeat was graded). */
  rewards: (number | null)[];
  /** The self-edit with the highest reward (earliest on ties); null when none has a reward. */
  best: number | null;
  bestReward: number | null;
  /** Whether the best reward is strictly above the baseline. */
  beatsBaseline: boolean;
  /** Whether the pick becomes an SFT row (always, unless `onlyImproving` and it does not beat the baseline). */
  kept: boolean;
  /** Inner loops of the passage whose training diverged (each a zero reward). */
  divergedInnerLoops: number;
}

/**
 * Picks the best self-edit per passage from inner-loop records. `edits` is the number of self-edits per passage
 * (rewards are listed for each, null where no record has an accuracy). Passages are returned in ascending order.
 */
export function selectBestSelfEdits(
  records: readonly InnerLoopOutcome[],
  edits: number,
  options: { onlyImproving: boolean },
): PassagePick[] {
  const byPassage = new Map<number, InnerLoopOutcome[]>();
  for (const record of records) {
    const list = byPassage.get(record.passage) ?? [];
    list.push(record);
    byPassage.set(record.passage, list);
  }
  const picks: PassagePick[] = [];
  for (const passage of [...byPassage.keys()].sort((a, b) => a - b)) {
    const list = byPassage.get(passage) ?? [];
    const baseline = list.find((record) => record.baselineAccuracy !== null)?.baselineAccuracy ?? null;
    const rewards: (number | null)[] = [];
    for (let edit = 0; edit < edits; edit++) {
      const values = list
        .filter((record) => record.edit === edit && record.adaptedAccuracy !== null)
        .map((record) => record.adaptedAccuracy as number);
      rewards.push(values.length === 0 ? null : mean(values));
    }
    let best: number | null = null;
    rewards.forEach((reward, edit) => {
      if (reward === null) return;
      if (best === null || reward > (rewards[best] as number)) best = edit;
    });
    const bestReward = best === null ? null : rewards[best];
    const beatsBaseline = bestReward !== null && baseline !== null && bestReward > baseline;
    picks.push({
      passage,
      baseline,
      rewards,
      best,
      bestReward,
      beatsBaseline,
      kept: best !== null && (!options.onlyImproving || beatsBaseline),
      divergedInnerLoops: list.filter((record) => record.divergence !== undefined).length,
    });
  }
  return picks;
}

/** Numbers of one round's E-step, for the summary. */
export interface SelectionStats {
  passages: number;
  rows: number;
  picksBeatingBaseline: number;
  /** Macro mean over passages of the chosen self-edit's reward. */
  meanRewardChosen: number | null;
  /** Macro mean over passages of the mean reward of all their self-edits. */
  meanRewardAll: number | null;
  /** Macro mean baseline accuracy. */
  meanBaseline: number | null;
  /** Inner loops whose training diverged (scored 0). */
  divergedInnerLoops: number;
}

export function selectionStats(picks: readonly PassagePick[]): SelectionStats {
  const chosen = picks.filter((pick) => pick.bestReward !== null).map((pick) => pick.bestReward as number);
  const all = picks
    .map((pick) => pick.rewards.filter((reward) => reward !== null) as number[])
    .filter((rewards) => rewards.length > 0)
    .map((rewards) => mean(rewards));
  const baselines = picks.filter((pick) => pick.baseline !== null).map((pick) => pick.baseline as number);
  return {
    passages: picks.length,
    rows: picks.filter((pick) => pick.kept).length,
    picksBeatingBaseline: picks.filter((pick) => pick.beatsBaseline).length,
    meanRewardChosen: chosen.length === 0 ? null : mean(chosen),
    meanRewardAll: all.length === 0 ? null : mean(all),
    meanBaseline: baselines.length === 0 ? null : mean(baselines),
    divergedInnerLoops: picks.reduce((n, pick) => n + pick.divergedInnerLoops, 0),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Summary

export interface RoundSummary {
  round: number;
  /** The checkpoint that generated this round's self-edits. */
  generator: string;
  /** The model the self-edits were evaluated on (null with --sft-data). */
  student: string | null;
  selection: SelectionStats | null;
  sft: Omit<SftOutcome, "stepLosses"> | null;
  /** The checkpoint this round produced (the generator itself when no row was kept). */
  model: string | null;
  complete: boolean;
}

export interface RestEmSummary {
  format: "seal-knowledge-train/1";
  rounds: RoundSummary[];
  config: unknown;
  finalModel: string | null;
}

function pct(value: number | null): string {
  return value === null ? "—" : `${(100 * value).toFixed(2)}%`;
}

function loss(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(4);
}

/** The rounds chart of a ReST-EM run. */
export const ROUNDS_SVG = "rounds.svg";
/** Bins of each round's reward histogram over [0, 1]. */
export const REWARD_BINS = 10;

/** The reward histogram of round `round`. */
export function rewardPlotName(round: number): string {
  return `reward-round-${round}.svg`;
}

/**
 * The run's plots: `rounds.svg` (mean baseline, mean reward of all self-edits and of the chosen ones per round, for
 * rounds with a selection) and one reward histogram per round in `rewardsByRound` (every self-edit's reward).
 */
export function restEmPlots(
  summary: RestEmSummary,
  rewardsByRound: ReadonlyMap<number, readonly number[]>,
): { file: string; svg: string }[] {
  const selected = summary.rounds.filter((round) => round.selection !== null);
  const seriesOf = (label: string, pick: (s: SelectionStats) => number | null) => ({
    label,
    points: selected.flatMap((round) => {
      const value = pick(round.selection as SelectionStats);
      return value === null ? [] : [[round.round, value] as [number, number]];
    }),
  });
  const plots = [
    {
      file: ROUNDS_SVG,
      svg: lineChartSvg({
        title: "ReST-EM rounds",
        xLabel: "round",
        yLabel: "accuracy",
        series: [
          seriesOf("baseline", (s) => s.meanBaseline),
          seriesOf("reward (all)", (s) => s.meanRewardAll),
          seriesOf("reward (chosen)", (s) => s.meanRewardChosen),
        ],
      }),
    },
  ];
  for (const [round, rewards] of [...rewardsByRound].sort((a, b) => a[0] - b[0])) {
    plots.push({
      file: rewardPlotName(round),
      svg: histogramSvg({
        title: `Round ${round}: reward of each self-edit`,
        xLabel: "reward (adapted accuracy)",
        values: rewards,
        bins: REWARD_BINS,
        range: [0, 1],
      }),
    });
  }
  return plots;
}

/** Which grader produced the rewards, from the run's config (SFT-only runs have none). */
function graderLine(config: unknown): string {
  const grader = (config as { grader?: { kind: string; model?: string; baseUrl?: string } } | null)?.grader;
  if (grader === undefined) return "none (no rewards in this run)";
  return grader.kind === "judge"
    ? `LLM judge ${grader.model} at ${grader.baseUrl} (failed calls left out of rewards)`
    : "local (gold answer contained in the answer)";
}

export function restEmSummaryMarkdown(summary: RestEmSummary, plots: readonly string[] = []): string {
  const lines = [
    "# ReST-EM training",
    "",
    "Reward = adapted accuracy after the inner loop (mean over repeats); chosen = the best self-edit per passage.",
    `Grader: ${graderLine(summary.config)}.`,
    "",
    "| round | passages | baseline | reward (all) | reward (chosen) | picks > baseline | SFT rows | SFT loss first → last epoch | checkpoint |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const round of summary.rounds) {
    const s = round.selection;
    lines.push(
      `| ${round.round} | ${s?.passages ?? "—"} | ${pct(s?.meanBaseline ?? null)} | ${pct(s?.meanRewardAll ?? null)} | ` +
        `${pct(s?.meanRewardChosen ?? null)} | ${s === null ? "—" : `${s.picksBeatingBaseline}/${s.passages}`} | ` +
        `${s?.rows ?? "—"} | ${loss(round.sft?.firstEpochLoss)} → ${loss(round.sft?.lastEpochLoss)} | ` +
        `${round.model === null ? "(unfinished)" : `\`${round.model}\``} |`,
    );
  }
  const diverged = summary.rounds.filter((round) => (round.selection?.divergedInnerLoops ?? 0) > 0);
  if (diverged.length > 0)
    lines.push(
      "",
      `Diverged inner loops (training stopped on a non-finite loss; scored 0): ${diverged
        .map((round) => `round ${round.round}: ${round.selection?.divergedInnerLoops}`)
        .join(", ")}.`,
    );
  lines.push("", `Final checkpoint: ${summary.finalModel === null ? "(none yet)" : `\`${summary.finalModel}\``}.`);
  if (plots.length > 0) {
    lines.push("", "## Plots");
    for (const plot of plots) lines.push("", `![${plot.replace(/\.svg$/, "")}](${plot})`);
  }
  return `${lines.join("\n")}\n`;
}
