/**
 * Batched sampling with a KV cache, for a list of prompts known up front: a synchronous loop over the continuous
 * batcher (batcher.ts). Many prompts are decoded together (one forward per step for every live sequence), `n`
 * samples of a prompt share one prefill, and finished sequences free their slot for the next prompt. Each
 * (prompt, sample) has its own seeded generator, so results do not depend on how sequences happened to be batched.
 */
import { ContinuousBatcher } from "./batcher.js";
import type { LoraAdapter } from "./lora.js";
import type { Model } from "./model.js";
import { type BeyondContext, contextOverflow, DEFAULT_REQUEST, type SampleGeneration } from "./request.js";
import { type SamplingParams, validateSamplingParams } from "./sampling.js";

export { type BeyondContext, contextOverflow } from "./request.js";

export interface GenerateOptions extends SamplingParams {
  maxNewTokens: number;
  /** Samples per prompt. */
  n: number;
  /** Generation ends when one of these is produced (it is kept in `tokens`, not in `text`). */
  stopTokenIds: number[];
  /** Generation ends when the decoded text contains one (needs `decode`); the text is cut before it. */
  stopStrings: string[];
  seed: number;
  /** Sequences decoded together (KV-cache slots). */
  maxBatch: number;
  decode: ((ids: number[]) => string) | null;
  /**
   * When a prompt plus maxNewTokens would run past the model's max_position_embeddings: "refuse" before anything
   * is computed; "stop" each sequence at the context's end (finish reason "length"), as vLLM caps at
   * max_model_len (a prompt that fills the context alone is still refused); "extrapolate" RoPE past it (which
   * degrades or breaks most models).
   */
  beyondContext: BeyondContext;
  /** One adapter per prompt (null: the base model), all decoded in one batch; null: the model's adapter for all. */
  adapters: (LoraAdapter | null)[] | null;
}

const { promptIndex: _perPrompt, ...REQUEST_DEFAULTS } = DEFAULT_REQUEST;

/** A request's defaults (request.ts) plus the batch's own settings. */
export const DEFAULT_GENERATE: Readonly<GenerateOptions> = {
  ...REQUEST_DEFAULTS,
  maxBatch: 16,
  decode: null,
  adapters: null,
};

export type FinishReason = "stop_token" | "stop_string" | "length";

export interface Generation {
  promptIndex: number;
  sampleIndex: number;
  /** Generated token ids (without the prompt). */
  tokens: number[];
  /** Decoded text (when a decoder was given), cut before a stop string. */
  text: string | null;
  finishReason: FinishReason;
}

export interface GenerateProgress {
  /** Sequences finished so far, of `total` (prompts × n). */
  finished: number;
  total: number;
  /** Tokens sampled so far, over all sequences. */
  generatedTokens: number;
}

/** Reported after every forward (a prefill or a decode step). */
export type GenerateProgressCallback = (progress: GenerateProgress) => void;

export function generate(
  model: Model,
  prompts: number[][],
  options: Partial<GenerateOptions> = {},
  onProgress?: GenerateProgressCallback,
): Generation[] {
  const opts: GenerateOptions = { ...DEFAULT_GENERATE, ...options };
  validateSamplingParams(opts);
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new Error(`n must be a positive integer, got ${opts.n}`);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 1)
    throw new Error(`maxNewTokens must be ≥ 1, got ${opts.maxNewTokens}`);
  if (opts.stopStrings.length > 0 && !opts.decode) throw new Error("stop strings need a decode function");
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty`);
  });
  if (opts.adapters !== null && opts.adapters.length !== prompts.length)
    throw new Error(`adapters has ${opts.adapters.length} entries for ${prompts.length} prompts`);
  const maxPositions = model.config.maxPositionEmbeddings;
  const lengths = prompts.map((p) => p.length);
  if (opts.beyondContext !== "extrapolate") {
    // "stop" still needs room for one new token after every prompt.
    const overflow = contextOverflow(maxPositions, lengths, opts.beyondContext === "stop" ? 1 : opts.maxNewTokens);
    if (overflow !== null)
      throw new Error(`${overflow}; beyondContext "stop" or "extrapolate" lets generation reach or pass it`);
  }
  const longest = lengths.reduce((m, length) => Math.max(m, length), 0);
  const capacity =
    opts.beyondContext === "stop" ? Math.min(longest + opts.maxNewTokens, maxPositions) : longest + opts.maxNewTokens;
  const slots = Math.max(opts.maxBatch, opts.n);
  const total = prompts.length * opts.n;
  if (total === 0) return [];
  const batcher = new ContinuousBatcher(model, { maxBatch: Math.min(slots, total), decode: opts.decode, capacity });
  const results: Generation[] = [];
  const { maxBatch: _maxBatch, decode: _decode, adapters, ...requestOptions } = opts;
  // generate() never cancels, so every finish reason is one of its own.
  const onFinish = (_: number, generation: SampleGeneration) => results.push(generation as Generation);
  for (const [promptIndex, prompt] of prompts.entries())
    batcher.submit(
      prompt,
      { ...requestOptions, promptIndex, ...(adapters ? { adapter: adapters[promptIndex] } : {}) },
      { onFinish },
    );
  while (!batcher.idle) {
    batcher.step();
    onProgress?.({ finished: results.length, total, generatedTokens: batcher.generatedTokens });
  }
  results.sort((a, b) => a.promptIndex - b.promptIndex || a.sampleIndex - b.sampleIndex);
  return results;
}
