/**
 * The summary of a `seal knowledge evaluate` run (summary.json; report.ts renders it as summary.md): the records of
 * the selected passages aggregated into per-passage baseline/adapted/gain, the macro mean over passages (the
 * reference's and the paper's headline) and the micro mean over questions, each with a 95% t interval, beside the
 * local metrics, the failed judge calls (left out of every accuracy, with a count), training losses and timings.
 */
import { mean, meanConfidenceInterval } from "../../seal/stats.js";
import { type AnswerGrade, accuracyOf, countJudgeVerdicts } from "./answer-grading.js";
import { type EvaluationConfig, type EvaluationMode, innerLoopsPerPassage } from "./evaluation-config.js";
import type { EvaluationPassage } from "./evaluation-passages.js";
import { GAINS_SVG, LOSS_SVG } from "./evaluation-plots.js";
import type { EvaluationRecord } from "./evaluation-records.js";
import type { GraderConfig } from "./inner-loop-config.js";
import type { VerdictCounts } from "./judge-failures.js";

export const EVALUATION_SUMMARY_FORMAT = "seal-knowledge-evaluate/1";

/** A mean with its two-sided 95% t interval (bounds null with fewer than two values, mean null with none). */
export interface IntervalSummary {
  mean: number | null;
  lower: number | null;
  upper: number | null;
  halfWidth: number | null;
  n: number;
}

export function intervalOf(values: readonly number[]): IntervalSummary {
  if (values.length === 0) return { mean: null, lower: null, upper: null, halfWidth: null, n: 0 };
  if (values.length === 1) return { mean: values[0], lower: null, upper: null, halfWidth: null, n: 1 };
  const ci = meanConfidenceInterval(values, { level: 0.95, method: "t" });
  return { mean: ci.mean, lower: ci.lower, upper: ci.upper, halfWidth: ci.halfWidth, n: ci.n };
}

export interface AccuracyIntervals {
  baseline: IntervalSummary;
  adapted: IntervalSummary;
  gain: IntervalSummary;
}

export interface PassageSummary {
  passage: number;
  title: string;
  questions: number;
  innerLoops: number;
  /** Accuracy of the base model on the passage's questions. */
  baseline: number | null;
  /** Mean over self-edits of (mean over repeats of the inner loop's accuracy). */
  adapted: number | null;
  gain: number | null;
}

export interface EvaluationSummary {
  format: typeof EVALUATION_SUMMARY_FORMAT;
  mode: EvaluationMode;
  grader: GraderConfig & { headline: string };
  config: EvaluationConfig;
  input: string;
  model: string;
  passages: number;
  passagesEvaluated: number;
  questions: number;
  innerLoops: { expected: number; done: number };
  complete: boolean;
  /** Mean over passages of each passage's accuracy (the reference's and the paper's headline). */
  macro: AccuracyIntervals;
  /** Mean over questions (each question's adapted value is its mean over self-edits × repeats). */
  micro: AccuracyIntervals;
  /** Micro means of the local metrics, whatever the headline grader. */
  localMetrics: {
    baseline: { exactMatch: number | null; f1: number | null; contains: number | null };
    adapted: { exactMatch: number | null; f1: number | null; contains: number | null };
  };
  /** Judge calls that failed: left out of every accuracy. */
  failedVerdicts: { baseline: number; adapted: number };
  /** All judge verdicts (baseline once per passage, adapted per inner loop) and the failed ones; null without a judge. */
  judgeVerdicts: VerdictCounts | null;
  /** Inner loops whose self-edit was empty (trained on the passage alone). */
  passageOnlyInnerLoops: number;
  /** Inner loops whose training diverged (non-finite loss or gradient): scored 0, no adapter used. */
  divergedInnerLoops: number;
  training: {
    meanFirstEpochLoss: number;
    meanLastEpochLoss: number;
    trainTokens: number;
    /** Mean training loss of each epoch over all inner loops (each loop's step losses split into equal epochs). */
    meanEpochLosses: number[];
  } | null;
  /** The SVG plots written beside the summary (file names relative to the run folder). */
  plots: string[];
  perPassage: PassageSummary[];
  /** Wall-clock figures (differ between runs; everything else is determined by the records). */
  timing: {
    innerLoopSeconds: number;
    baselineSeconds: number;
    trainSeconds: number;
    answerSeconds: number;
    gradeSeconds: number;
    innerLoopsPerHour: number | null;
  };
}

/** Mean step loss of each of `epochs` equal parts of `stepLosses` (as the inner loop splits them). */
export function epochLossesOf(stepLosses: readonly number[], epochs: number): number[] {
  const count = Math.max(1, Math.min(epochs, stepLosses.length));
  const out: number[] = [];
  for (let epoch = 0; epoch < count; epoch++) {
    const part = stepLosses.slice(
      Math.floor((epoch * stepLosses.length) / count),
      Math.floor(((epoch + 1) * stepLosses.length) / count),
    );
    if (part.length > 0) out.push(mean(part));
  }
  return out;
}

const meanOrNull = (values: readonly number[]): number | null => (values.length === 0 ? null : mean(values));

export function headlineDescription(grader: GraderConfig): string {
  return grader.kind === "local"
    ? "local grading: correct = the normalized gold answer is contained in the normalized answer (contains-gold); SQuAD exact match and F1 are reported beside it"
    : `LLM judge ${grader.model} at ${grader.baseUrl}: the reference's yes/no verdict; failed calls are left out of the accuracies`;
}

/**
 * Aggregates the records of the selected passages: per passage baseline/adapted/gain, macro over passages and
 * micro over questions, each with a 95% t interval. Records of other passages are ignored.
 */
export function summarizeEvaluation(
  passages: readonly Pick<EvaluationPassage, "index" | "title" | "questions">[],
  records: readonly EvaluationRecord[],
  config: EvaluationConfig,
  info: { input: string; model: string } = { input: "", model: "" },
): EvaluationSummary {
  const byPassage = new Map<number, EvaluationRecord[]>();
  for (const record of records) {
    const list = byPassage.get(record.passage) ?? [];
    list.push(record);
    byPassage.set(record.passage, list);
  }
  const perPassage: PassageSummary[] = [];
  const macroBaseline: number[] = [];
  const macroAdapted: number[] = [];
  const macroGain: number[] = [];
  const microBaseline: number[] = [];
  const microAdapted: number[] = [];
  const microGain: number[] = [];
  const local = {
    baseline: { exactMatch: [] as number[], f1: [] as number[], contains: [] as number[] },
    adapted: { exactMatch: [] as number[], f1: [] as number[], contains: [] as number[] },
  };
  const failedVerdicts = { baseline: 0, adapted: 0 };
  const judgedGrades: AnswerGrade[] = [];
  let done = 0;
  let passagesEvaluated = 0;
  let questionCount = 0;
  let passageOnlyInnerLoops = 0;
  let divergedInnerLoops = 0;
  const firstLosses: number[] = [];
  const lastLosses: number[] = [];
  const epochLosses: number[][] = [];
  let trainTokens = 0;
  const timing = { innerLoopSeconds: 0, baselineSeconds: 0, trainSeconds: 0, answerSeconds: 0, gradeSeconds: 0 };

  for (const passage of passages) {
    const list = (byPassage.get(passage.index) ?? []).slice().sort((a, b) => a.edit - b.edit || a.repeat - b.repeat);
    questionCount += passage.questions.length;
    done += list.length;
    const summary: PassageSummary = {
      passage: passage.index,
      title: passage.title,
      questions: passage.questions.length,
      innerLoops: list.length,
      baseline: null,
      adapted: null,
      gain: null,
    };
    perPassage.push(summary);
    if (list.length === 0) continue;
    passagesEvaluated++;
    for (const record of list) {
      if (record.passageOnly) passageOnlyInnerLoops++;
      if (record.divergence !== undefined) divergedInnerLoops++;
      if (record.training) {
        firstLosses.push(record.training.firstEpochLoss);
        lastLosses.push(record.training.lastEpochLoss);
        epochLossesOf(record.training.stepLosses, config.train.epochs).forEach((value, epoch) => {
          if (epochLosses[epoch] === undefined) epochLosses[epoch] = [];
          epochLosses[epoch].push(value);
        });
        trainTokens += record.training.trainTokens;
      }
      timing.innerLoopSeconds += record.timings?.totalSeconds ?? 0;
      timing.baselineSeconds += record.timings?.baselineSeconds ?? 0;
      timing.trainSeconds += record.timings?.trainSeconds ?? 0;
      timing.answerSeconds += record.timings?.answerSeconds ?? 0;
      timing.gradeSeconds += record.timings?.gradeSeconds ?? 0;
    }

    // Baseline: the same answers and grades in every record of the passage; take the first.
    const baselineGrades = list[0].questions.map((q) => q.baselineGrade);
    summary.baseline = accuracyOf(baselineGrades);
    failedVerdicts.baseline += baselineGrades.filter((grade) => grade.correct === null).length;
    judgedGrades.push(...baselineGrades);

    // Adapted: mean over repeats per self-edit, then mean over self-edits.
    const byEdit = new Map<number, number[]>();
    for (const record of list) {
      failedVerdicts.adapted += record.questions.filter((q) => q.adaptedGrade.correct === null).length;
      judgedGrades.push(...record.questions.map((q) => q.adaptedGrade));
      if (record.adaptedAccuracy === null) continue;
      const accuracies = byEdit.get(record.edit) ?? [];
      accuracies.push(record.adaptedAccuracy);
      byEdit.set(record.edit, accuracies);
    }
    summary.adapted = byEdit.size === 0 ? null : mean([...byEdit.values()].map((accuracies) => mean(accuracies)));
    if (summary.baseline !== null) macroBaseline.push(summary.baseline);
    if (summary.adapted !== null) macroAdapted.push(summary.adapted);
    if (summary.baseline !== null && summary.adapted !== null) {
      summary.gain = summary.adapted - summary.baseline;
      macroGain.push(summary.gain);
    }

    // Per question: baseline 0/1, adapted = mean over the inner loops that graded it.
    passage.questions.forEach((_, q) => {
      const baseline = list[0].questions[q]?.baselineGrade;
      const adaptedGrades = list.map((record) => record.questions[q]?.adaptedGrade).filter((g) => g !== undefined);
      if (baseline === undefined) return;
      local.baseline.exactMatch.push(baseline.exactMatch);
      local.baseline.f1.push(baseline.f1);
      local.baseline.contains.push(baseline.contains ? 1 : 0);
      local.adapted.exactMatch.push(mean(adaptedGrades.map((g) => g.exactMatch)));
      local.adapted.f1.push(mean(adaptedGrades.map((g) => g.f1)));
      local.adapted.contains.push(mean(adaptedGrades.map((g) => (g.contains ? 1 : 0))));
      const baselineValue = baseline.correct === null ? null : baseline.correct ? 1 : 0;
      const graded = adaptedGrades.filter((g) => g.correct !== null).map((g) => (g.correct ? 1 : 0));
      const adaptedValue = graded.length === 0 ? null : mean(graded);
      if (baselineValue !== null) microBaseline.push(baselineValue);
      if (adaptedValue !== null) microAdapted.push(adaptedValue);
      if (baselineValue !== null && adaptedValue !== null) microGain.push(adaptedValue - baselineValue);
    });
  }

  const expected = passages.length * innerLoopsPerPassage(config);
  return {
    format: EVALUATION_SUMMARY_FORMAT,
    mode: config.mode,
    grader: { ...config.grader, headline: headlineDescription(config.grader) },
    config,
    input: info.input,
    model: info.model,
    passages: passages.length,
    passagesEvaluated,
    questions: questionCount,
    innerLoops: { expected, done },
    complete: done >= expected,
    macro: { baseline: intervalOf(macroBaseline), adapted: intervalOf(macroAdapted), gain: intervalOf(macroGain) },
    micro: { baseline: intervalOf(microBaseline), adapted: intervalOf(microAdapted), gain: intervalOf(microGain) },
    localMetrics: {
      baseline: {
        exactMatch: meanOrNull(local.baseline.exactMatch),
        f1: meanOrNull(local.baseline.f1),
        contains: meanOrNull(local.baseline.contains),
      },
      adapted: {
        exactMatch: meanOrNull(local.adapted.exactMatch),
        f1: meanOrNull(local.adapted.f1),
        contains: meanOrNull(local.adapted.contains),
      },
    },
    failedVerdicts,
    judgeVerdicts: config.grader.kind === "judge" ? countJudgeVerdicts(judgedGrades) : null,
    passageOnlyInnerLoops,
    divergedInnerLoops,
    training:
      firstLosses.length === 0
        ? null
        : {
            meanFirstEpochLoss: mean(firstLosses),
            meanLastEpochLoss: mean(lastLosses),
            trainTokens,
            meanEpochLosses: epochLosses.map((values) => mean(values)),
          },
    plots: firstLosses.length === 0 ? [GAINS_SVG] : [GAINS_SVG, LOSS_SVG],
    perPassage,
    timing: {
      ...timing,
      innerLoopsPerHour: timing.innerLoopSeconds > 0 && done > 0 ? (3600 * done) / timing.innerLoopSeconds : null,
    },
  };
}
