/**
 * The plots of a `seal knowledge evaluate` run, written beside its summary: the histogram of per-passage gains and,
 * when something was trained, the mean training loss per epoch.
 */
import path from "node:path";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { histogramSvg, lineChartSvg } from "../../seal/plots.js";

/** Plot files of an evaluation run. */
export const GAINS_SVG = "gains.svg";
export const LOSS_SVG = "loss.svg";

/** Bins of the gain histogram over [−1, 1]. */
export const GAIN_BINS = 20;

/** What the plots show: the parts of an EvaluationSummary they are drawn from. */
export interface EvaluationPlotData {
  perPassage: readonly { gain: number | null }[];
  training: { meanEpochLosses: readonly number[] } | null;
}

/** Writes the run's plots (`summary.plots`) atomically into `dir`. */
export function writeEvaluationPlots(dir: string, summary: EvaluationPlotData): void {
  const gains = summary.perPassage.map((p) => p.gain).filter((g): g is number => g !== null);
  writeFileAtomic(
    path.join(dir, GAINS_SVG),
    histogramSvg({
      title: "Per-passage gain (adapted − baseline accuracy)",
      xLabel: "gain",
      values: gains,
      bins: GAIN_BINS,
      range: [-1, 1],
    }),
  );
  if (summary.training !== null) {
    writeFileAtomic(
      path.join(dir, LOSS_SVG),
      lineChartSvg({
        title: "Mean training loss per epoch (all inner loops)",
        xLabel: "epoch",
        yLabel: "loss (nats/token)",
        series: [
          {
            label: "mean loss",
            points: summary.training.meanEpochLosses.map((l, i) => [i + 1, l] as [number, number]),
          },
        ],
      }),
    );
  }
}
