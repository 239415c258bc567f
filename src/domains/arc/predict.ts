/**
 * ARC's prediction side (reference-implementation.md §2.6): for one test input, the augmented query set (leave-one-out
 * variants, example-order permutations, geometric transforms with their inverses), greedy answers from the model
 * (with a task's adapter, or none for the in-context baseline), grid parsing that never throws, the inverse
 * transforms, and voting down to two attempts.
 *
 * The reference decodes up to 8192 − prompt tokens; here `maxNewTokens` caps the answer (default: enough for a
 * 30×30 grid in the model's tokenizer), because an answer past a 30×30 grid can never parse.
 */
import { type Generation, generate } from "../../engine/generate.js";
import type { LoraAdapter } from "../../engine/lora.js";
import type { Model } from "../../engine/model.js";
import type { TextTokenizer } from "../../io/tokenizer.js";
import { applyInverter } from "./augment.js";
import { type ChatRenderOptions, DEFAULT_CHAT_RENDER, encodePrompt } from "./chat-examples.js";
import type { ArcTask, Grid } from "./grid.js";
import { tttAnswerText, tttPromptMessages } from "./messages.js";
import { parseGridText } from "./output-parse.js";
import { type ArcQuery, buildQueries, QUERY_DEFAULTS, type QueryOptions } from "./queries.js";
import { type Prediction, type VoteOptions, vote } from "./vote.js";

export interface PredictSettings {
  queries: Omit<QueryOptions, "tokenCount">;
  /** Answer tokens at most (null: enough for a 30×30 grid, measured with the tokenizer). */
  maxNewTokens: number | null;
  /** Sequences decoded together. */
  batch: number;
  chat: ChatRenderOptions;
  /** How the vote picks among tied counts (vote.ts). */
  vote: VoteOptions;
  /** Keep only the first this many queries (null: all, as the reference); for quick runs. */
  maxQueries: number | null;
}

export const REFERENCE_PREDICT: Readonly<PredictSettings> = {
  queries: { ...QUERY_DEFAULTS },
  maxNewTokens: null,
  batch: 8,
  chat: DEFAULT_CHAT_RENDER,
  vote: { selection: "reference" },
  maxQueries: null,
};

/** Tokens of the longest possible answer: a 30×30 grid of two-digit-free colours, its terminator and end token. */
export function maxAnswerTokens(tokenizer: TextTokenizer): number {
  const widest = Array.from({ length: 30 }, (_, r) => Array.from({ length: 30 }, (_, c) => (r * 7 + c * 3) % 10));
  return tokenizer.encode(tttAnswerText(widest), { addSpecialTokens: false }).length + 2;
}

export interface QueryAnswer {
  augmenter: string;
  inverter: string;
  leaveN: number;
  promptTokens: number;
  text: string;
  finishReason: Generation["finishReason"];
  /** The parsed grid mapped back to the task's frame; null when the text is not a grid. */
  grid: Grid | null;
}

export interface InstancePrediction {
  /** Two attempts (the vote), or null when no answer parsed. */
  attempts: Grid[] | null;
  answers: QueryAnswer[];
  /** True when no leave-one-out query fitted the token limit and leave-two was added. */
  fallback: boolean;
}

function queryPrompt(tokenizer: TextTokenizer, query: ArcQuery, chat: ChatRenderOptions): number[] {
  const test = query.task.test[0];
  return encodePrompt(tokenizer, tttPromptMessages(query.task.train, test.input), chat);
}

interface PlannedQueries {
  queries: ArcQuery[];
  prompts: number[][];
  fallback: boolean;
}

/** The queries of one test input, length-filtered as the reference does, and their prompt tokens. */
function planQueries(tokenizer: TextTokenizer, instance: ArcTask, settings: PredictSettings): PlannedQueries {
  const answerTokens = (task: ArcTask): number => {
    const output = task.test[0].output;
    return output === undefined ? 0 : tokenizer.encode(tttAnswerText(output), { addSpecialTokens: false }).length;
  };
  // the length filter and generation need the same prompt tokens: encode each query once
  const promptCache = new Map<ArcQuery, number[]>();
  const promptOf = (query: ArcQuery): number[] => {
    let ids = promptCache.get(query);
    if (ids === undefined) {
      ids = queryPrompt(tokenizer, query, settings.chat);
      promptCache.set(query, ids);
    }
    return ids;
  };
  // as the reference, a query's length counts its answer too when the solution is known
  const built = buildQueries(instance, {
    ...settings.queries,
    tokenCount: (query) => promptOf(query).length + answerTokens(query.task),
  });
  const queries = settings.maxQueries === null ? built.queries : built.queries.slice(0, settings.maxQueries);
  return { queries, prompts: queries.map(promptOf), fallback: built.fallback };
}

/** Parses, inverts and votes one test input's answers (in query order). */
function predictionOf(
  planned: PlannedQueries,
  generations: Generation[],
  settings: PredictSettings,
): InstancePrediction {
  const answers: QueryAnswer[] = generations.map((generation, i) => {
    const query = planned.queries[i];
    const text = generation.text ?? "";
    const parsed = parseGridText(text);
    return {
      augmenter: query.augmenter,
      inverter: query.inverter,
      leaveN: query.leaveN,
      promptTokens: planned.prompts[i].length,
      text,
      finishReason: generation.finishReason,
      grid: parsed === null ? null : applyInverter(query.inverter, parsed),
    };
  });
  const predictions: Prediction[] = answers
    .filter((answer) => answer.grid !== null)
    .map((answer) => ({ grid: answer.grid as Grid, inverter: answer.inverter }));
  const voted = predictions.length === 0 ? null : vote(predictions, settings.vote);
  return { attempts: voted === null ? null : voted.attempts, answers, fallback: planned.fallback };
}

/** One test input to predict (exactly one test case) and the adapter that answers it (null: the base model). */
export interface PredictItem {
  instance: ArcTask;
  adapter: LoraAdapter | null;
}

/**
 * Predicts several test inputs in one decode batch, each with its own adapter (sequences of different adapters
 * share every forward; each adapter keeps the batch size it would have alone). Greedy, so each prediction equals
 * the one made with its adapter alone.
 */
export function predictInstances(
  model: Model,
  tokenizer: TextTokenizer,
  items: readonly PredictItem[],
  settings: PredictSettings,
): InstancePrediction[] {
  return predictWith(model, tokenizer, items, settings, true);
}

/** Predicts one test input (`instance` has exactly one test case); the model's current adapter is used. */
export function predictInstance(
  model: Model,
  tokenizer: TextTokenizer,
  instance: ArcTask,
  settings: PredictSettings,
): InstancePrediction {
  return predictWith(model, tokenizer, [{ instance, adapter: null }], settings, false)[0];
}

function predictWith(
  model: Model,
  tokenizer: TextTokenizer,
  items: readonly PredictItem[],
  settings: PredictSettings,
  perItemAdapters: boolean,
): InstancePrediction[] {
  const planned = items.map((item) => planQueries(tokenizer, item.instance, settings));
  const prompts = planned.flatMap((p) => p.prompts);
  const adapters = perItemAdapters ? items.flatMap((item, i) => planned[i].prompts.map(() => item.adapter)) : null;
  const distinct = adapters === null ? 1 : new Set(adapters).size;
  const stopTokenIds = [...new Set([...tokenizer.eosTokenIds, ...model.config.eosTokenIds])];
  const generations =
    prompts.length === 0
      ? []
      : generate(model, prompts, {
          temperature: 0,
          maxNewTokens: settings.maxNewTokens ?? maxAnswerTokens(tokenizer),
          beyondContext: "stop", // as vLLM, the reference's engine, ends a sequence at max_model_len
          n: 1,
          stopTokenIds,
          maxBatch: settings.batch * distinct,
          decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
          adapters,
        });
  const byPrompt: Generation[] = [];
  for (const generation of generations) byPrompt[generation.promptIndex] = generation;
  let next = 0;
  return planned.map((p) => {
    const mine = byPrompt.slice(next, next + p.prompts.length);
    next += p.prompts.length;
    return predictionOf(p, mine, settings);
  });
}
