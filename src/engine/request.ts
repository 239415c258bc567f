/**
 * One generation request as the continuous batcher sees it: its options and their checks, the seeds of its
 * samples, and the streaming of decoded text (deltas that never split a UTF-8 character or show part of a stop
 * string).
 */
import type { LoraAdapter } from "./lora.js";
import { type SamplingParams, validateSamplingParams } from "./sampling.js";
import { StopStringMatcher } from "./stop.js";

/**
 * When a prompt plus maxNewTokens would run past the model's max_position_embeddings: "refuse" before anything
 * is computed; "stop" each sequence at the context's end (finish reason "length"), as vLLM caps at
 * max_model_len (a prompt that fills the context alone is still refused); "extrapolate" RoPE past it (which
 * degrades or breaks most models).
 */
export type BeyondContext = "refuse" | "stop" | "extrapolate";

export interface RequestOptions extends SamplingParams {
  maxNewTokens: number;
  /** Samples of the prompt (they share one prefill). */
  n: number;
  /** Generation ends when one of these is produced (it is kept in `tokens`, not in `text`). */
  stopTokenIds: number[];
  /** Generation ends when the decoded text contains one (needs a decoder); the text is cut before it. */
  stopStrings: string[];
  seed: number;
  beyondContext: BeyondContext;
  /**
   * Which seed stream the samples draw from (sample s uses sampleSeed(seed, promptIndex, s)): generate() gives
   * each of its prompts its own, so a prompt's output is the same whether it runs alone or in a list.
   */
  promptIndex: number;
  /**
   * The adapter this request runs with (null: the base model); undefined: the batcher's adapter at admission. Many
   * adapters decode in one batch, each on its own sequences' rows.
   */
  adapter?: LoraAdapter | null;
}

export const DEFAULT_REQUEST: Readonly<RequestOptions> = {
  temperature: 1,
  topP: 1,
  topK: 0,
  maxNewTokens: 256,
  n: 1,
  stopTokenIds: [],
  stopStrings: [],
  seed: 0,
  beyondContext: "refuse",
  promptIndex: 0,
};

/** "cancelled": the request was cancelled before the sample finished on its own. */
export type RequestFinishReason = "stop_token" | "stop_string" | "length" | "cancelled";

export interface SampleGeneration {
  promptIndex: number;
  sampleIndex: number;
  /** Generated token ids (without the prompt). */
  tokens: number[];
  /** Decoded text (when the batcher has a decoder), cut before a stop string. */
  text: string | null;
  finishReason: RequestFinishReason;
}

export interface StartInfo {
  promptTokens: number;
  /** The adapter the request runs with (it cannot change while the request runs). */
  adapter: LoraAdapter | null;
}

export interface RequestCallbacks {
  /** The request was admitted and its prompt prefilled (its first tokens follow at once). */
  onStart?(info: StartInfo): void;
  /**
   * A sample produced a token; `textDelta` is the text that became final with it ("" while a UTF-8 character is
   * incomplete or a stop string may be starting; the rest comes with the sample's last token).
   */
  onToken?(sampleIndex: number, tokenId: number, textDelta: string): void;
  onFinish?(sampleIndex: number, generation: SampleGeneration): void;
  /** The forward or sampling failed; `done` rejects with the same error. */
  onError?(error: Error): void;
}

/** A request the batcher refuses; `field` names the option at fault (RequestOptions' name, or "prompt"). */
export class InvalidRequestError extends RangeError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = "InvalidRequestError";
  }
}

export function sampleSeed(seed: number, promptIndex: number, sampleIndex: number): number {
  return (
    (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) +
      Math.imul(promptIndex + 1, 0x85ebca6b) +
      Math.imul(sampleIndex + 1, 0xc2b2ae35)) >>>
    0
  );
}

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

/** How many new tokens a sample may have ("stop" ends it at the context's last position). */
export function newTokenLimit(options: RequestOptions, promptLength: number, maxPositions: number): number {
  return options.beyondContext === "stop"
    ? Math.min(options.maxNewTokens, maxPositions - promptLength)
    : options.maxNewTokens;
}

/** Throws an InvalidRequestError naming the field unless the request can run. */
export function validateRequest(
  prompt: readonly number[],
  options: RequestOptions,
  limits: { maxPositions: number; maxBatch: number; vocabSize: number; canDecode: boolean },
): void {
  try {
    validateSamplingParams(options);
  } catch (error) {
    const message = (error as Error).message;
    const field = /temperature/.test(message) ? "temperature" : /topP/.test(message) ? "topP" : "topK";
    throw new InvalidRequestError(message, field);
  }
  if (!Number.isInteger(options.n) || options.n < 1)
    throw new InvalidRequestError(`n must be a positive integer, got ${options.n}`, "n");
  if (options.n > limits.maxBatch)
    throw new InvalidRequestError(`n ${options.n} exceeds the ${limits.maxBatch} sequences decoded together`, "n");
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 1)
    throw new InvalidRequestError(`maxNewTokens must be ≥ 1, got ${options.maxNewTokens}`, "maxNewTokens");
  if (options.stopStrings.length > 0 && !limits.canDecode)
    throw new InvalidRequestError("stop strings need a decode function", "stopStrings");
  try {
    new StopStringMatcher(options.stopStrings);
  } catch (error) {
    throw new InvalidRequestError((error as Error).message, "stopStrings");
  }
  if (prompt.length === 0) throw new InvalidRequestError("the prompt is empty", "prompt");
  for (const id of prompt)
    if (!Number.isInteger(id) || id < 0 || id >= limits.vocabSize)
      throw new InvalidRequestError(`prompt token ${id} is outside the vocabulary of ${limits.vocabSize}`, "prompt");
  if (options.beyondContext !== "extrapolate") {
    const stop = options.beyondContext === "stop";
    const overflow = contextOverflow(
      limits.maxPositions,
      [prompt.length],
      stop ? 1 : options.maxNewTokens,
      () => "the prompt",
    );
    if (overflow !== null)
      throw new InvalidRequestError(overflow, stop || prompt.length >= limits.maxPositions ? "prompt" : "maxNewTokens");
  }
}

/**
 * The streamed text of one sample: each call gets the whole text decoded so far (re-decoding every token keeps
 * multi-byte characters whole) and returns the new part that is safe to show. A trailing U+FFFD (an incomplete
 * UTF-8 sequence, usually completed by the next token) is held back, and so is a tail that could grow into a stop
 * string. Byte-level decoding only ever appends, so the deltas add up to the final text.
 */
export class TextStream {
  private shown = "";

  /** The text streamed so far. */
  get text(): string {
    return this.shown;
  }

  /** The new safe part of `stable` (the decoded text minus a possible stop-string start). */
  next(stable: string): string {
    let end = stable.length;
    while (end > 0 && stable.charCodeAt(end - 1) === 0xfffd) end--;
    return this.advance(stable.slice(0, end));
  }

  /** The rest of the final text (nothing held back). */
  finish(final: string): string {
    return this.advance(final);
  }

  private advance(text: string): string {
    // A decoder that rewrote earlier text (not byte-level BPE) cannot be taken back: wait until it agrees again.
    if (text.length <= this.shown.length || !text.startsWith(this.shown)) return "";
    const delta = text.slice(this.shown.length);
    this.shown = text;
    return delta;
  }
}
