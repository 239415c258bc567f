/**
 * Readers for the reference's knowledge-incorporation result files, and recomputation of their headline
 * numbers from the per-question verdicts they contain.
 *
 * - `query_server` runs (`results/query_server/eval/*.json`): per article, per completion, per question and
 *   repetition, the baseline and adapted answers and verdicts. Headline = macro accuracy (spec §1.6): each
 *   completion's accuracy is the mean over its repetitions of that repetition's accuracy, an article's is the
 *   mean over its completions, and the overall number is the mean over articles.
 * - CPT runs (`results/cpt/*.json`): one LoRA for all articles; headline = micro accuracy over all questions
 *   (spec §1.8), recomputed from `server_reply`. Its `per_article` map is keyed by title, so articles sharing a
 *   title overwrite each other there (47 keys for 200 articles); it is kept but not used for the headline.
 * - Continual self-edits (`results/continual_self_edits/overall_results.json`): (K+1)×K mean/std matrices.
 */
import { z } from "zod";
import { readJsonFile, validateJson } from "../../io/json-file.js";
import { macroMean, mean, microMean, sampleStd } from "../../seal/stats.js";

const loraParamsSchema = z.object({
  rank: z.number(),
  alpha: z.number(),
  dropout: z.number(),
  epochs: z.number(),
  lr: z.number(),
  batch_size: z.number(),
  grad_accum_steps: z.number(),
});

const questionResultSchema = z.object({
  rep: z.number().int().nonnegative(),
  question: z.string(),
  answer: z.string(),
  baseline_answer: z.string(),
  adapter_answer: z.string(),
  baseline_correct: z.boolean(),
  adapter_correct: z.boolean(),
});

const completionResultSchema = z.object({
  text: z.string(),
  stats: z.object({
    baseline_mean: z.number(),
    baseline_std: z.number(),
    adapter_mean: z.number(),
    adapter_std: z.number(),
    gain_mean: z.number(),
  }),
  questions: z.array(questionResultSchema).min(1),
});

const articleResultSchema = z.object({
  stats: z.object({
    baseline_accuracy: z.number(),
    adapter_mean_accuracy: z.number(),
    adapter_std_over_completions: z.number(),
    mean_adapter_std_within_completions: z.number(),
    mean_gain: z.number(),
  }),
  title: z.string(),
  context: z.string(),
  completions: z.array(completionResultSchema).min(1),
  prompt: z.string().optional(),
});

export const queryServerResultSchema = z.object({
  overall: z.object({
    baseline_mean_accuracy: z.number(),
    baseline_std_of_article_means: z.number(),
    adapter_mean_accuracy: z.number(),
    adapter_std_of_article_means: z.number(),
    mean_adapter_std_over_completions: z.number(),
    mean_adapter_std_within_completions: z.number(),
    mean_gain: z.number(),
  }),
  timestamp: z.string(),
  exp_name: z.string(),
  dataset: z.string(),
  split_newlines: z.boolean(),
  n_articles: z.number().int(),
  k_completions: z.number().int(),
  eval_times: z.number().int(),
  lora_params: loraParamsSchema,
  articles: z.array(articleResultSchema).min(1),
});
export type QueryServerResult = z.output<typeof queryServerResultSchema>;

export const cptResultSchema = z.object({
  overall: z.object({ baseline_accuracy: z.number(), adapter_accuracy: z.number(), gain: z.number() }),
  timestamp: z.string(),
  dataset: z.string(),
  n_articles: z.number().int(),
  k_completions: z.number().int(),
  split_newlines: z.boolean(),
  lora_params: loraParamsSchema,
  per_article: z.record(
    z.string(),
    z.object({ baseline_correct: z.array(z.boolean()), adapter_correct: z.array(z.boolean()) }),
  ),
  /** Counts, not the sequences themselves. */
  train_sequences: z.number().int().nonnegative(),
  eval_questions: z.number().int().nonnegative(),
  server_reply: z.object({
    baseline_accuracy: z.number(),
    adapter_accuracy: z.number(),
    adapter_gain: z.number(),
    baseline_texts: z.array(z.string()),
    adapter_texts: z.array(z.string()),
    baseline_correct: z.array(z.boolean()),
    adapter_correct: z.array(z.boolean()),
    gains: z.array(z.number().int().min(-1).max(1)),
  }),
});
export type CptResult = z.output<typeof cptResultSchema>;

const matrixSchema = z.array(z.array(z.number()));

export const continualResultSchema = z.object({
  mean_over_sequences: matrixSchema,
  std_over_sequences: matrixSchema,
  n_sequences: z.number().int().positive(),
  n_datapoints: z.number().int().positive(),
  dataset: z.string(),
  base_model: z.string(),
});
export type ContinualResult = z.output<typeof continualResultSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Readers (validation errors name the file and field)

export function readQueryServerResult(path: string): QueryServerResult {
  const result = readJsonFile(path, queryServerResultSchema);
  checkQueryServerResult(result, path);
  return result;
}

function checkQueryServerResult(result: QueryServerResult, path: string): void {
  result.articles.forEach((article, a) => {
    article.completions.forEach((completion, c) => {
      const reps = new Set(completion.questions.map((question) => question.rep));
      for (let rep = 0; rep < reps.size; rep++) {
        if (!reps.has(rep)) {
          throw new Error(`${path}: field "articles.${a}.completions.${c}.questions": repetitions are not 0..n-1`);
        }
      }
    });
  });
}

export function readCptResult(path: string): CptResult {
  const result = readJsonFile(path, cptResultSchema);
  const reply = result.server_reply;
  const n = reply.baseline_correct.length;
  for (const [field, length] of [
    ["adapter_correct", reply.adapter_correct.length],
    ["baseline_texts", reply.baseline_texts.length],
    ["adapter_texts", reply.adapter_texts.length],
    ["gains", reply.gains.length],
  ] as const) {
    if (length !== n) {
      throw new Error(
        `${path}: field "server_reply.${field}": expected ${n} entries (one per question), got ${length}`,
      );
    }
  }
  if (result.eval_questions !== n) {
    throw new Error(
      `${path}: field "eval_questions": says ${result.eval_questions} but server_reply has ${n} verdicts`,
    );
  }
  return result;
}

export function readContinualResult(path: string): ContinualResult {
  const result = readJsonFile(path, continualResultSchema);
  const k = result.n_datapoints;
  for (const field of ["mean_over_sequences", "std_over_sequences"] as const) {
    const matrix = result[field];
    if (matrix.length !== k + 1 || matrix.some((row) => row.length !== k)) {
      throw new Error(`${path}: field "${field}": expected a ${k + 1}×${k} matrix (n_datapoints = ${k})`);
    }
  }
  return result;
}

/** Validates an already-parsed query-server result (e.g. one produced in memory); `label` names it in errors. */
export function parseQueryServerResult(value: unknown, label: string): QueryServerResult {
  const result = validateJson(value, queryServerResultSchema, label);
  checkQueryServerResult(result, label);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Recomputation

export interface AccuracyPair {
  baseline: number;
  adapter: number;
}

export interface QueryServerSummary {
  articles: number;
  /** Question verdicts counted (questions × repetitions × completions). */
  verdicts: number;
  /** Mean over articles of each article's accuracy (the reference's and the paper's headline). */
  macro: AccuracyPair;
  /** Mean over all verdicts pooled. */
  micro: AccuracyPair;
  /** Sample std over the articles' accuracies (n − 1). */
  stdOfArticleMeans: AccuracyPair;
  /** Per article, in file order: title and recomputed accuracies. */
  perArticle: (AccuracyPair & { title: string })[];
  /** The numbers the file itself states (rounded to 4 dp by the reference). */
  stored: AccuracyPair & { stdOfArticleMeans: AccuracyPair };
}

const asNumber = (verdict: boolean): number => (verdict ? 1 : 0);

/** Accuracy of one completion: the mean over its repetitions of each repetition's accuracy. */
function completionAccuracy(questions: QueryServerResult["articles"][number]["completions"][number]["questions"]) {
  const byRep = new Map<number, { baseline: number[]; adapter: number[] }>();
  for (const question of questions) {
    let rep = byRep.get(question.rep);
    if (!rep) {
      rep = { baseline: [], adapter: [] };
      byRep.set(question.rep, rep);
    }
    rep.baseline.push(asNumber(question.baseline_correct));
    rep.adapter.push(asNumber(question.adapter_correct));
  }
  const reps = [...byRep.values()];
  return {
    baseline: macroMean(reps.map((rep) => rep.baseline)),
    adapter: macroMean(reps.map((rep) => rep.adapter)),
  };
}

/** Recomputes macro and micro accuracies of a query-server run from its per-question verdicts. */
export function summarizeQueryServerResult(result: QueryServerResult): QueryServerSummary {
  const perArticle = result.articles.map((article) => {
    const completions = article.completions.map((completion) => completionAccuracy(completion.questions));
    return {
      title: article.title,
      baseline: mean(completions.map((completion) => completion.baseline)),
      adapter: mean(completions.map((completion) => completion.adapter)),
    };
  });
  const questions = result.articles.flatMap((article) => article.completions.flatMap((c) => c.questions));
  const baselineOfArticles = perArticle.map((article) => article.baseline);
  const adapterOfArticles = perArticle.map((article) => article.adapter);
  const spread = (values: number[]): number => (values.length >= 2 ? sampleStd(values) : 0);
  return {
    articles: perArticle.length,
    verdicts: questions.length,
    macro: { baseline: mean(baselineOfArticles), adapter: mean(adapterOfArticles) },
    micro: {
      baseline: microMean([questions.map((question) => asNumber(question.baseline_correct))]),
      adapter: microMean([questions.map((question) => asNumber(question.adapter_correct))]),
    },
    stdOfArticleMeans: { baseline: spread(baselineOfArticles), adapter: spread(adapterOfArticles) },
    perArticle,
    stored: {
      baseline: result.overall.baseline_mean_accuracy,
      adapter: result.overall.adapter_mean_accuracy,
      stdOfArticleMeans: {
        baseline: result.overall.baseline_std_of_article_means,
        adapter: result.overall.adapter_std_of_article_means,
      },
    },
  };
}

export interface CptSummary {
  questions: number;
  /** Mean over all questions (the reference's CPT headline). */
  micro: AccuracyPair;
  /** Gains recount: questions only the adapter got right, only the baseline got right. */
  improved: number;
  regressed: number;
  stored: AccuracyPair;
}

/** Recomputes a CPT run's micro accuracies from `server_reply`'s per-question verdicts. */
export function summarizeCptResult(result: CptResult): CptSummary {
  const reply = result.server_reply;
  let improved = 0;
  let regressed = 0;
  reply.baseline_correct.forEach((baseline, i) => {
    const adapter = reply.adapter_correct[i];
    if (adapter && !baseline) improved++;
    if (baseline && !adapter) regressed++;
  });
  return {
    questions: reply.baseline_correct.length,
    micro: {
      baseline: microMean([reply.baseline_correct.map(asNumber)]),
      adapter: microMean([reply.adapter_correct.map(asNumber)]),
    },
    improved,
    regressed,
    stored: { baseline: result.overall.baseline_accuracy, adapter: result.overall.adapter_accuracy },
  };
}

export interface ContinualSummary {
  /** Row 0: the starting model's accuracy on each passage. */
  base: number[];
  /** Accuracy on passage k right after editing on it (row k + 1, column k). */
  justEdited: number[];
  /** Accuracy on passage 0 after 1..K edits (column 0, rows 1..K): the forgetting curve. */
  firstPassageAfterEdits: number[];
  /** The last row: every passage after all K edits. */
  finalRow: number[];
}

export function summarizeContinualResult(result: ContinualResult): ContinualSummary {
  const matrix = result.mean_over_sequences;
  const k = result.n_datapoints;
  return {
    base: [...matrix[0]],
    justEdited: Array.from({ length: k }, (_, i) => matrix[i + 1][i]),
    firstPassageAfterEdits: Array.from({ length: k }, (_, i) => matrix[i + 1][0]),
    finalRow: [...matrix[k]],
  };
}

/** Percent with 2 decimals, as the reference reports (0.469904 → 46.99). */
export function toPercent2(fraction: number): number {
  return Math.round(fraction * 10_000) / 100;
}
