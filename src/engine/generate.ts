/**
 * Batched sampling with a KV cache. Many prompts are decoded together (one forward per step for every live
 * sequence), `n` samples of a prompt share one prefill (its cache rows are copied), and finished sequences free
 * their slot for the next prompt (continuous batching). Each (prompt, sample) has its own seeded generator, so
 * results do not depend on how sequences happened to be batched.
 */
import { KvCache } from "./kv-cache.js";
import type { Model } from "./model.js";
import { Rng } from "./random.js";
import { type SamplingParams, sampleToken, validateSamplingParams } from "./sampling.js";
import { StopStringMatcher } from "./stop.js";

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
}

export type BeyondContext = "refuse" | "stop" | "extrapolate";

export const DEFAULT_GENERATE: Readonly<GenerateOptions> = {
  temperature: 1,
  topP: 1,
  topK: 0,
  maxNewTokens: 256,
  n: 1,
  stopTokenIds: [],
  stopStrings: [],
  seed: 0,
  maxBatch: 16,
  decode: null,
  beyondContext: "refuse",
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

interface Live {
  promptIndex: number;
  sampleIndex: number;
  slot: number;
  position: number; // position of the next token to feed
  tokens: number[];
  rng: Rng;
  stop: StopStringMatcher | null;
}

function sampleSeed(seed: number, promptIndex: number, sampleIndex: number): number {
  return (
    (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) +
      Math.imul(promptIndex + 1, 0x85ebca6b) +
      Math.imul(sampleIndex + 1, 0xc2b2ae35)) >>>
    0
  );
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

/**
 * Why `maxNewTokens` after the longest of these prompts does not fit in `maxPositions` (the model's
 * max_position_embeddings), naming the prompt by `label`; null when every prompt fits. Prompt plus new tokens must
 * fit, as transformers' max_length and vLLM's max_model_len count them.
 */
export function contextOverflow(
  maxPositions: number,
  promptLengths: readonly number[],
  maxNewTokens: number,
  label: (index: number) => string = (index) => `prompt ${index}`,
): string | null {
  let worst = -1;
  promptLengths.forEach((length, i) => {
    if (worst < 0 || length > promptLengths[worst]) worst = i;
  });
  if (worst < 0) return null;
  const length = promptLengths[worst];
  if (length + maxNewTokens <= maxPositions) return null;
  const room =
    length < maxPositions
      ? `at most ${maxPositions - length} new tokens fit after it`
      : "the prompt alone fills the context";
  return `${label(worst)}: ${length} prompt token${length === 1 ? "" : "s"} + ${maxNewTokens} new tokens exceed the model's max_position_embeddings ${maxPositions} (${room})`;
}

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
  const maxPositions = model.config.maxPositionEmbeddings;
  const lengths = prompts.map((p) => p.length);
  if (opts.beyondContext !== "extrapolate") {
    // "stop" still needs room for one new token after every prompt.
    const overflow = contextOverflow(maxPositions, lengths, opts.beyondContext === "stop" ? 1 : opts.maxNewTokens);
    if (overflow !== null)
      throw new Error(`${overflow}; beyondContext "stop" or "extrapolate" lets generation reach or pass it`);
  }
  /** How many new tokens a sequence of this prompt may have ("stop" ends it at the context's last position). */
  const newTokenLimit = (promptIndex: number) =>
    opts.beyondContext === "stop"
      ? Math.min(opts.maxNewTokens, maxPositions - lengths[promptIndex])
      : opts.maxNewTokens;
  const longest = lengths.reduce((m, length) => Math.max(m, length), 0);
  const capacity =
    opts.beyondContext === "stop" ? Math.min(longest + opts.maxNewTokens, maxPositions) : longest + opts.maxNewTokens;
  const slots = Math.max(opts.maxBatch, opts.n);
  const cache = new KvCache(model.config, Math.min(slots, prompts.length * opts.n), capacity);
  const freeSlots = Array.from({ length: cache.slots }, (_, i) => cache.slots - 1 - i);
  const stopIds = new Set(opts.stopTokenIds);
  const results: Generation[] = [];
  const total = prompts.length * opts.n;
  const V = model.config.vocabSize;
  let live: Live[] = [];
  let nextPrompt = 0;

  const finish = (seq: Live, reason: FinishReason, text: string | null) => {
    results.push({
      promptIndex: seq.promptIndex,
      sampleIndex: seq.sampleIndex,
      tokens: seq.tokens,
      text,
      finishReason: reason,
    });
    freeSlots.push(seq.slot);
  };
  const decodeText = (ids: number[]) => (opts.decode ? opts.decode(ids) : null);
  /** Appends a sampled token; returns false when the sequence is finished. */
  let generatedTokens = 0;
  const accept = (seq: Live, token: number): boolean => {
    seq.tokens.push(token);
    generatedTokens++;
    if (stopIds.has(token)) {
      finish(seq, "stop_token", decodeText(seq.tokens.slice(0, -1)));
      return false;
    }
    if (seq.stop) {
      const check = seq.stop.update(decodeText(seq.tokens) ?? "");
      if (check.stopped) {
        finish(seq, "stop_string", check.text);
        return false;
      }
    }
    if (seq.tokens.length >= newTokenLimit(seq.promptIndex)) {
      finish(seq, "length", decodeText(seq.tokens));
      return false;
    }
    return true;
  };

  while (live.length > 0 || nextPrompt < prompts.length) {
    // admit as many whole prompts (all n samples) as free slots allow, prefilled in one forward
    const admitted: { promptIndex: number; slots: number[] }[] = [];
    while (nextPrompt < prompts.length && freeSlots.length >= opts.n)
      admitted.push({ promptIndex: nextPrompt++, slots: freeSlots.splice(freeSlots.length - opts.n, opts.n) });
    if (admitted.length > 0) {
      const rows = admitted.reduce((sum, a) => sum + prompts[a.promptIndex].length, 0);
      const tokens = new Int32Array(rows);
      const positions = new Int32Array(rows);
      const slotOf = new Int32Array(rows);
      const lastRows: number[] = [];
      let r = 0;
      for (const a of admitted) {
        const prompt = prompts[a.promptIndex];
        for (let i = 0; i < prompt.length; i++, r++) {
          tokens[r] = prompt[i];
          positions[r] = i;
          slotOf[r] = a.slots[0];
        }
        lastRows.push(r - 1);
      }
      const logits = model.forwardCached(cache, tokens, positions, slotOf, lastRows);
      admitted.forEach((a, k) => {
        const promptLength = prompts[a.promptIndex].length;
        const row = logits.subarray(k * V, (k + 1) * V);
        for (let s = 0; s < opts.n; s++) {
          const slot = a.slots[s];
          if (s > 0) cache.copySlot(a.slots[0], slot, promptLength);
          const seq: Live = {
            promptIndex: a.promptIndex,
            sampleIndex: s,
            slot,
            position: promptLength,
            tokens: [],
            rng: new Rng(sampleSeed(opts.seed, a.promptIndex, s)),
            stop: opts.stopStrings.length > 0 ? new StopStringMatcher(opts.stopStrings) : null,
          };
          if (accept(seq, sampleToken(row, opts, seq.rng))) live.push(seq);
        }
      });
      onProgress?.({ finished: results.length, total, generatedTokens });
      continue;
    }
    // one decode step for every live sequence
    const count = live.length;
    const tokens = Int32Array.from(live, (seq) => seq.tokens[seq.tokens.length - 1]);
    const positions = Int32Array.from(live, (seq) => seq.position);
    const slotOf = Int32Array.from(live, (seq) => seq.slot);
    const logits = model.forwardCached(
      cache,
      tokens,
      positions,
      slotOf,
      Array.from({ length: count }, (_, i) => i),
    );
    const still: Live[] = [];
    live.forEach((seq, i) => {
      seq.position++;
      if (accept(seq, sampleToken(logits.subarray(i * V, (i + 1) * V), opts, seq.rng))) still.push(seq);
    });
    live = still;
    onProgress?.({ finished: results.length, total, generatedTokens });
  }
  results.sort((a, b) => a.promptIndex - b.promptIndex || a.sampleIndex - b.sampleIndex);
  return results;
}
