/**
 * Self-edit generation for knowledge incorporation (reference-implementation.md §1.2, `make_squad_data.py`): for
 * each passage, sample k self-edits from a prompt style (or a user template), `.strip()` them, and keep the source
 * record + `completions` + `prompt` — the reference's synthetic-file format, so its own files and ours are read by
 * the same code (`readSelfEditFile`).
 *
 * Differences from the reference, on purpose:
 * - an empty completion does not abort the run; it is recorded (and later scored as passage-only) and counted;
 * - passages are sampled in chunks (as many passages as fit `batch` sequences), each chunk's passages appended to a
 *   crash-safe record log keyed `passage-{index}`, so a crash loses at most the chunk in flight and a resume
 *   continues where the run stopped.
 *
 * Seeds: a chunk covers the passages `[c·P, (c+1)·P)` (P = passages per chunk, indices of the data file, clipped to
 * the `start`/`limit` slice), sampled with the seed `chunkSeed(seed, c·P)`; inside it each (passage, sample) has its
 * own generator (engine/generate.ts). A chunk whose records are incomplete (crash between appends) is sampled again
 * as a whole, which reproduces the recorded passages exactly, and only the missing ones are appended. So a resumed
 * run ends with the same file as an uninterrupted one; changing `batch` or `k` changes the samples.
 */
import path from "node:path";
import { z } from "zod";
import type { FinishReason } from "../../engine/generate.js";
import type { RecordLog } from "../../seal/records.js";
import { type Passage, type SelfEditRecord, selfEditRecordSchema, writeSelfEditFile } from "./data.js";
import { pythonStrip } from "./sequences.js";

/** The file in a run directory holding the self-edits in the reference's format. */
export const SELF_EDITS_FILE = "self_edits.json";
/** The record log (`<name>.jsonl`) in a run directory: one record per finished passage. */
export const SELF_EDIT_LOG_NAME = "self-edits";

/** The reference's sampling settings (§1.2: vLLM completions, n=1 per repeated prompt). */
export const REFERENCE_SELF_EDIT_SAMPLING = {
  k: 5,
  temperature: 1,
  topP: 0.95,
  /** vLLM's -1 (off). */
  topK: 0,
  maxTokens: 8192,
} as const;

/** Everything that decides which self-edits are sampled (stored in the run's config, compared on resume). */
export interface SelfEditGenerationConfig {
  /** A built-in prompt style, or null when a template file is used. */
  style: string | null;
  /** Whether the prompt was rendered as a user message through the model's chat template. */
  chat: boolean;
  k: number;
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  seed: number;
  /** Sequences decoded together; decides the chunking (and so the samples). */
  batch: number;
  /** First passage (index in the data file). */
  start: number;
  /** Passages from `start` at most (null: to the end). */
  limit: number | null;
}

/** One passage's entry in the record log. */
export interface SelfEditLogRecord {
  /** Index of the passage in the data file. */
  index: number;
  /** Source record + stripped completions + the exact text the model was given. */
  record: SelfEditRecord;
  /** Generated tokens per completion (a stop token counted). */
  completionTokens: number[];
  finishReasons: FinishReason[];
  /** This passage's share of its chunk's sampling time. */
  seconds: number;
}

export const selfEditLogRecordSchema = z.object({
  index: z.number().int().nonnegative(),
  record: selfEditRecordSchema,
  completionTokens: z.array(z.number().int().nonnegative()),
  finishReasons: z.array(z.enum(["stop_token", "stop_string", "length"])),
  seconds: z.number().nonnegative(),
});

export function passageKey(index: number): string {
  return `passage-${index}`;
}

/** Passages per chunk: as many whole passages (k sequences each) as fit `batch` sequences, at least one. */
export function passagesPerChunk(batch: number, k: number): number {
  return Math.max(1, Math.floor(batch / k));
}

/** The data-file indices a run covers: `[start, start + limit)` clipped to the file. */
export function selectPassageIndices(count: number, start: number, limit: number | null): number[] {
  if (start >= count) throw new Error(`--start ${start} is past the last passage (the data has ${count})`);
  const end = limit === null ? count : Math.min(count, start + limit);
  return Array.from({ length: end - start }, (_, i) => start + i);
}

export interface Chunk {
  /** First index of the aligned chunk (`c·P`); the seed derives from it. */
  first: number;
  /** The run's passages in it (data-file indices, ascending). */
  indices: number[];
}

/** Splits the indices into chunks aligned to multiples of `perChunk` in the data file. */
export function planChunks(indices: readonly number[], perChunk: number): Chunk[] {
  const chunks: Chunk[] = [];
  for (const index of indices) {
    const first = Math.floor(index / perChunk) * perChunk;
    const last = chunks[chunks.length - 1];
    if (last !== undefined && last.first === first) last.indices.push(index);
    else chunks.push({ first, indices: [index] });
  }
  return chunks;
}

/** The sampling seed of the chunk starting at `first` (a 32-bit mix of the run's seed and the index). */
export function chunkSeed(seed: number, first: number): number {
  let x = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(first + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** One sampled completion, as the engine returns it. */
export interface SampledCompletion {
  /** Decoded text (special tokens skipped), not yet stripped. */
  text: string;
  /** Generated tokens, a stop token included. */
  tokens: number;
  finishReason: FinishReason;
}

/**
 * Samples `k` completions for each prompt text with `seed` (one generator per prompt position and sample); returns
 * them per prompt, in sample order. `onProgress` reports sequences finished and tokens so far.
 */
export type SelfEditSampler = (
  prompts: string[],
  seed: number,
  onProgress?: (progress: { finished: number; total: number; generatedTokens: number }) => void,
) => SampledCompletion[][];

export interface GenerateSelfEditsOptions {
  passages: readonly Passage[];
  /** Data-file indices to cover (from selectPassageIndices). */
  indices: readonly number[];
  config: SelfEditGenerationConfig;
  /** The prompt text the model is given for a passage (style/template, chat template applied when asked). */
  promptFor: (passage: Passage) => string;
  sampler: SelfEditSampler;
  log: RecordLog<SelfEditLogRecord>;
  /** After each chunk's records are appended (e.g. rewrite self_edits.json, tick progress). */
  onChunkDone?: (chunk: Chunk, appended: number) => void;
  /** While a chunk is sampled. */
  onChunkProgress?: (chunk: Chunk, progress: { finished: number; total: number; generatedTokens: number }) => void;
}

/** Samples every chunk that has passages missing from the log and appends one record per missing passage. */
export function generateSelfEdits(options: GenerateSelfEditsOptions): void {
  const { passages, config, log } = options;
  const chunks = planChunks(options.indices, passagesPerChunk(config.batch, config.k));
  for (const chunk of chunks) {
    const missing = chunk.indices.filter((index) => !log.has(passageKey(index)));
    if (missing.length === 0) continue;
    const prompts = chunk.indices.map((index) => options.promptFor(passages[index]));
    const started = performance.now();
    const sampled = options.sampler(prompts, chunkSeed(config.seed, chunk.first), (progress) =>
      options.onChunkProgress?.(chunk, progress),
    );
    const seconds = (performance.now() - started) / 1000 / chunk.indices.length;
    if (sampled.length !== prompts.length) {
      throw new Error(`sampler returned ${sampled.length} prompt results for ${prompts.length} prompts`);
    }
    chunk.indices.forEach((index, position) => {
      if (log.has(passageKey(index))) return;
      const samples = sampled[position];
      if (samples.length !== config.k) {
        throw new Error(`sampler returned ${samples.length} completions for passage ${index}, expected ${config.k}`);
      }
      const passage = passages[index];
      log.appendRecord(passageKey(index), {
        index,
        record: {
          title: passage.title,
          context: passage.context,
          questions: passage.questions,
          completions: samples.map((sample) => pythonStrip(sample.text)),
          prompt: prompts[position],
        },
        completionTokens: samples.map((sample) => sample.tokens),
        finishReasons: samples.map((sample) => sample.finishReason),
        seconds,
      });
    });
    options.onChunkDone?.(chunk, missing.length);
  }
}

/** The finished log records of `indices`, in data-file order (missing ones skipped). */
export function finishedRecords(log: RecordLog<SelfEditLogRecord>, indices: readonly number[]): SelfEditLogRecord[] {
  const out: SelfEditLogRecord[] = [];
  for (const index of indices) {
    const entry = log.get(passageKey(index));
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

/** Writes `dir/self_edits.json` (atomically) with the finished passages, in data-file order. */
export function writeSelfEditsOfRun(dir: string, records: readonly SelfEditLogRecord[]): string {
  const file = path.join(dir, SELF_EDITS_FILE);
  writeSelfEditFile(
    file,
    records.map((entry) => entry.record),
  );
  return file;
}

export interface SelfEditSummary {
  passages: number;
  /** Passages the run covers (finished or not). */
  passagesPlanned: number;
  k: number;
  completions: number;
  emptyCompletions: number;
  /** Passages (data-file indices) with at least one empty completion. */
  passagesWithEmpty: number[];
  /** Mean generated tokens per completion (a stop token counted). */
  meanCompletionTokens: number;
  /** Completions cut by `maxTokens`. */
  truncatedCompletions: number;
  tokens: number;
  /** Sampling seconds over all chunks (across resumes). */
  seconds: number;
  tokensPerSecond: number;
  config: SelfEditGenerationConfig;
  file: string;
}

export function summarizeSelfEdits(
  records: readonly SelfEditLogRecord[],
  planned: number,
  config: SelfEditGenerationConfig,
  file: string,
): SelfEditSummary {
  let completions = 0;
  let empty = 0;
  let tokens = 0;
  let truncated = 0;
  let seconds = 0;
  const passagesWithEmpty: number[] = [];
  for (const entry of records) {
    completions += entry.record.completions.length;
    const emptyHere = entry.record.completions.filter((completion) => completion === "").length;
    empty += emptyHere;
    if (emptyHere > 0) passagesWithEmpty.push(entry.index);
    tokens += entry.completionTokens.reduce((sum, count) => sum + count, 0);
    truncated += entry.finishReasons.filter((reason) => reason === "length").length;
    seconds += entry.seconds;
  }
  return {
    passages: records.length,
    passagesPlanned: planned,
    k: config.k,
    completions,
    emptyCompletions: empty,
    passagesWithEmpty,
    meanCompletionTokens: completions > 0 ? tokens / completions : 0,
    truncatedCompletions: truncated,
    tokens,
    seconds,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    config,
    file,
  };
}

/** The summary as Markdown (summary.md). */
export function selfEditSummaryMarkdown(summary: SelfEditSummary): string {
  const c = summary.config;
  const prompt = c.style === null ? "template file" : `style \`${c.style}\``;
  const lines = [
    "# Self-edit generation",
    "",
    `Prompt: ${prompt}${c.chat ? ", chat template" : ", raw (no chat template)"}. Sampling: k=${c.k}, temperature ${c.temperature}, top-p ${c.topP}, top-k ${c.topK === 0 ? "off" : c.topK}, max ${c.maxTokens} tokens, seed ${c.seed}, batch ${c.batch}.`,
    "",
    "| | |",
    "|---|---|",
    `| passages | ${summary.passages} of ${summary.passagesPlanned} |`,
    `| completions | ${summary.completions} |`,
    `| empty completions (scored as passage-only) | ${summary.emptyCompletions} |`,
    `| completions cut at max tokens | ${summary.truncatedCompletions} |`,
    `| mean completion length | ${summary.meanCompletionTokens.toFixed(1)} tokens |`,
    `| tokens generated | ${summary.tokens} |`,
    `| sampling time | ${summary.seconds.toFixed(1)} s |`,
    `| throughput | ${summary.tokensPerSecond.toFixed(1)} tokens/s |`,
    "",
    `Self-edits: \`${summary.file}\` (reference format: source record + \`completions\` + \`prompt\`).`,
  ];
  if (summary.passagesWithEmpty.length > 0) {
    const shown = summary.passagesWithEmpty.slice(0, 20).map((index) => passageKey(index));
    const more = summary.passagesWithEmpty.length > 20 ? `, … (${summary.passagesWithEmpty.length} in all)` : "";
    lines.push("", `Passages with an empty completion: ${shown.join(", ")}${more}.`);
  }
  return `${lines.join("\n")}\n`;
}
