/**
 * The HTTP layer's view of generation: prompts go to a worker thread that owns the model and runs the engine's
 * continuous batcher, so the event loop never waits on model work. `startGenerationService` (client.ts) starts
 * the worker and returns this interface.
 */

/** Sampling for one request (OpenAI names mapped to the engine's). */
export interface GenerationRequest {
  /** Rendered prompt text (chat template already applied); the worker tokenizes it. */
  prompt: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  /** Choices sampled from one prefill. */
  n: number;
  seed: number;
  /** Stop strings: the text is cut before the first one. */
  stop: string[];
}

export type GenerationFinishReason = "stop" | "length" | "cancelled";

export interface GenerationChoice {
  index: number;
  text: string;
  finishReason: GenerationFinishReason;
  completionTokens: number;
}

export interface GenerationResult {
  promptTokens: number;
  choices: GenerationChoice[];
  /** The adapter the request ran with (null: base model). */
  adapter: string | null;
}

/** Streaming callbacks; every one is optional. `onToken` carries decoded text deltas (never a broken UTF-8 char). */
export interface GenerationEvents {
  onStart?(info: { promptTokens: number }): void;
  onDelta?(choiceIndex: number, text: string): void;
  onChoiceEnd?(choiceIndex: number, finishReason: GenerationFinishReason): void;
}

export interface GenerationHandle {
  id: string;
  /** Resolves when every choice finished; rejects with a GenerationError (bad prompt, context overflow, worker died). */
  done: Promise<GenerationResult>;
  /** Ends the request early (client went away); its choices finish with "cancelled". */
  cancel(): void;
}

export interface GenerationStats {
  /** Requests decoding now, and waiting for a batch slot. */
  running: number;
  queued: number;
  generatedTokens: number;
  adapter: string | null;
}

export interface GenerationService {
  /** The model's name as /v1/models reports it. */
  readonly modelId: string;
  /** Positions the model can attend to (prompt + completion). */
  readonly contextLength: number;
  /** Throws QueueFullError at once when maxQueue requests already wait. */
  submit(request: GenerationRequest, events?: GenerationEvents): GenerationHandle;
  /**
   * Switches the adapter (a PEFT folder, or null for the base model) atomically: requests already decoding finish
   * on the old weights, later ones start on the new; resolves once the new adapter serves.
   */
  setAdapter(adapterDir: string | null): Promise<void>;
  stats(): GenerationStats;
  close(): Promise<void>;
}

export interface GenerationServiceOptions {
  modelDir: string;
  adapterDir: string | null;
  /** Sequences decoded together. */
  maxBatch: number;
  /** Requests allowed to wait for a slot before submit answers QueueFullError (HTTP 429). */
  maxQueue: number;
}

export class QueueFullError extends Error {
  constructor(readonly limit: number) {
    super(`the request queue is full (${limit} waiting); retry later`);
    this.name = "QueueFullError";
  }
}

/** A request the engine refused (kind "invalid": the client's fault, HTTP 400) or could not finish ("internal"). */
export class GenerationError extends Error {
  constructor(
    message: string,
    readonly kind: "invalid" | "internal",
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "GenerationError";
  }
}
