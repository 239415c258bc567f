/**
 * Continuous batching over the KV-cache engine: requests wait in a FIFO queue, and between forwards every request
 * that fits into free cache slots is admitted (its `n` samples share one prefill, whose cache rows are copied), so
 * new requests join a batch that is already decoding. Each `step()` is one forward: a prefill of the newly
 * admitted prompts, or one decode token for every live sequence. Each (request, sample) has its own seeded
 * generator, and a row's logits do not depend on the other rows, so results do not depend on batching.
 *
 * Adapter switches are atomic for requests: `setAdapter` stops admitting, lets the running sequences finish on the
 * old weights, then swaps `model.adapter`; waiting requests start on the new one. A request may also name its own
 * adapter: sequences of different adapters share each forward, every adapter applied to its own rows (routes).
 */
import { KvCache } from "./kv-cache.js";
import type { LoraAdapter, LoraRoute } from "./lora.js";
import type { Model } from "./model.js";
import { Rng } from "./random.js";
import {
  DEFAULT_REQUEST,
  newTokenLimit,
  type RequestCallbacks,
  type RequestFinishReason,
  type RequestOptions,
  type SampleGeneration,
  sampleSeed,
  TextStream,
  validateRequest,
} from "./request.js";

export type { StartInfo } from "./request.js";

import { sampleToken } from "./sampling.js";
import { StopStringMatcher } from "./stop.js";

export interface BatcherOptions {
  /** Sequences decoded together (KV-cache slots); a request's n samples must fit. */
  maxBatch: number;
  /** Token ids → text, for stop strings, streamed deltas and `text` (null: no text). */
  decode: ((ids: number[]) => string) | null;
  /**
   * Positions to allocate per slot at once (generate() sizes it for its prompts); without it the cache is
   * allocated on the first admission and grows when a request needs more.
   */
  capacity?: number;
}

export interface RequestHandle {
  id: number;
  /** The samples' results in sample order; rejects when the forward or sampling fails. */
  done: Promise<SampleGeneration[]>;
  /** Ends the request: waiting, it never starts; running, its unfinished samples end with "cancelled". */
  cancel(): void;
}

interface Request {
  id: number;
  prompt: number[];
  options: RequestOptions;
  callbacks: RequestCallbacks;
  stopIds: Set<number>;
  /** New tokens a sample may have. */
  limit: number;
  /** Cache slots of the samples, assigned at admission. */
  slots: number[];
  /** Fixed at admission. */
  adapter: LoraAdapter | null;
  /** Per sample; null until it finishes. */
  results: (SampleGeneration | null)[];
  open: number;
  state: "waiting" | "running" | "done";
  cancelRequested: boolean;
  resolve(results: SampleGeneration[]): void;
  reject(error: Error): void;
}

interface Sequence {
  request: Request;
  sampleIndex: number;
  slot: number;
  /** Position of the next token to feed. */
  position: number;
  tokens: number[];
  rng: Rng;
  stop: StopStringMatcher | null;
  stream: TextStream | null;
  finished: boolean;
}

interface PendingSwap {
  adapter: LoraAdapter | null;
  resolve(): void;
}

export class ContinuousBatcher {
  private cache: KvCache | null = null;
  private readonly slots: number;
  private readonly freeSlots: number[];
  private readonly decode: ((ids: number[]) => string) | null;
  private queue: Request[] = [];
  private live: Sequence[] = [];
  private runningRequests = 0;
  private swaps: PendingSwap[] = [];
  private stepping = false;
  private nextId = 1;
  private tokensGenerated = 0;

  constructor(
    readonly model: Model,
    options: BatcherOptions,
  ) {
    const { maxBatch } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    this.slots = maxBatch;
    this.freeSlots = Array.from({ length: maxBatch }, (_, i) => maxBatch - 1 - i);
    this.decode = options.decode;
    if (options.capacity !== undefined && options.capacity > 0)
      this.cache = new KvCache(model.config, maxBatch, options.capacity);
  }

  /** Nothing running and nothing waiting. */
  get idle(): boolean {
    return this.live.length === 0 && this.queue.length === 0;
  }

  /** Requests admitted and not finished. */
  get running(): number {
    return this.runningRequests;
  }

  /** Requests waiting for free slots (or for an adapter switch). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Sequences (samples) decoding now. */
  get liveSequences(): number {
    return this.live.length;
  }

  /** Tokens sampled so far, over all requests. */
  get generatedTokens(): number {
    return this.tokensGenerated;
  }

  /** Queues a request; throws an InvalidRequestError (naming the field) when it cannot run. */
  submit(
    prompt: readonly number[],
    options: Partial<RequestOptions> = {},
    callbacks: RequestCallbacks = {},
  ): RequestHandle {
    const opts: RequestOptions = { ...DEFAULT_REQUEST, ...options };
    const config = this.model.config;
    validateRequest(prompt, opts, {
      maxPositions: config.maxPositionEmbeddings,
      maxBatch: this.slots,
      vocabSize: config.vocabSize,
      canDecode: this.decode !== null,
    });
    let resolve!: (results: SampleGeneration[]) => void;
    let reject!: (error: Error) => void;
    const done = new Promise<SampleGeneration[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller that only uses the callbacks must not crash the process with an unhandled rejection.
    done.catch(() => {});
    const request: Request = {
      id: this.nextId++,
      prompt: [...prompt],
      options: opts,
      callbacks,
      stopIds: new Set(opts.stopTokenIds),
      limit: newTokenLimit(opts, prompt.length, config.maxPositionEmbeddings),
      slots: [],
      adapter: null,
      results: Array.from({ length: opts.n }, () => null),
      open: opts.n,
      state: "waiting",
      cancelRequested: false,
      resolve,
      reject,
    };
    this.queue.push(request);
    return { id: request.id, done, cancel: () => this.cancel(request) };
  }

  /**
   * One forward: a prefill of every waiting request that fits (and no adapter switch is pending), else one decode
   * token for every live sequence. Returns false when there was nothing to do. When the forward or sampling
   * throws, the requests involved fail (onError, `done` rejects) and the error is rethrown.
   */
  step(): boolean {
    if (this.stepping) throw new Error("ContinuousBatcher.step() called from one of its own callbacks");
    this.stepping = true;
    try {
      const admitted: Request[] = [];
      while (this.swaps.length === 0 && this.queue.length > 0 && this.freeSlots.length >= this.queue[0].options.n) {
        const request = this.queue.shift()!;
        request.slots = this.freeSlots.splice(this.freeSlots.length - request.options.n, request.options.n);
        request.state = "running";
        request.adapter = request.options.adapter === undefined ? this.model.adapter : request.options.adapter;
        this.runningRequests++;
        admitted.push(request);
      }
      if (admitted.length > 0) this.guarded(admitted, () => this.prefill(admitted));
      else if (this.live.length > 0) this.guarded([], () => this.decodeStep());
      else return false;
      return true;
    } finally {
      this.stepping = false;
      this.reapCancelled();
      this.applySwaps();
    }
  }

  /**
   * Serves `adapter` (null: the base model) from now on: no request is admitted until the running ones finish on
   * the old weights; then `model.adapter` is swapped and the promise resolves.
   */
  setAdapter(adapter: LoraAdapter | null): Promise<void> {
    return new Promise((resolve) => {
      this.swaps.push({ adapter, resolve });
      if (!this.stepping) this.applySwaps();
    });
  }

  /** Cancels every request, waiting or running. */
  cancelAll(): void {
    for (const request of [...this.queue, ...new Set(this.live.map((seq) => seq.request))]) this.cancel(request);
  }

  private cancel(request: Request): void {
    if (request.state === "done") return;
    if (request.state === "waiting") {
      this.queue = this.queue.filter((r) => r !== request);
      for (let s = 0; s < request.options.n; s++)
        this.record(request, {
          promptIndex: request.options.promptIndex,
          sampleIndex: s,
          tokens: [],
          text: this.decode ? "" : null,
          finishReason: "cancelled",
        });
      this.applySwaps();
      return;
    }
    request.cancelRequested = true;
    if (!this.stepping) {
      this.reapCancelled();
      this.applySwaps();
    }
  }

  /** Runs a forward; on failure fails the admitted and live requests and rethrows. */
  private guarded(admitted: Request[], work: () => void): void {
    try {
      work();
    } catch (error) {
      const failed = new Set([...admitted, ...this.live.map((seq) => seq.request)]);
      this.live = this.live.filter((seq) => !seq.finished && !failed.has(seq.request));
      const reason = error instanceof Error ? error : new Error(String(error));
      for (const request of failed) this.fail(request, reason);
      throw error;
    }
  }

  private fail(request: Request, error: Error): void {
    if (request.state === "done") return;
    request.results.forEach((result, s) => {
      if (result === null && request.slots.length > s) this.freeSlots.push(request.slots[s]);
    });
    if (request.state === "running") this.runningRequests--;
    request.state = "done";
    try {
      request.callbacks.onError?.(error);
    } finally {
      request.reject(error);
    }
  }

  /** Makes room for `needed` positions per slot, keeping what the live sequences cached. */
  private ensureCapacity(needed: number): KvCache {
    const old = this.cache;
    if (old !== null && old.capacity >= needed) return old;
    const config = this.model.config;
    const capacity = old === null ? needed : Math.max(needed, Math.min(2 * old.capacity, config.maxPositionEmbeddings));
    const grown = new KvCache(config, this.slots, capacity);
    if (old !== null) {
      const span = old.capacity * old.kvDim;
      for (let l = 0; l < old.k.length; l++)
        for (let s = 0; s < this.slots; s++) {
          grown.k[l].set(old.k[l].subarray(s * span, (s + 1) * span), s * capacity * grown.kvDim);
          grown.v[l].set(old.v[l].subarray(s * span, (s + 1) * span), s * capacity * grown.kvDim);
        }
    }
    this.cache = grown;
    return grown;
  }

  /** One forward over the admitted prompts; their samples' first tokens. */
  private prefill(admitted: Request[]): void {
    const cache = this.ensureCapacity(admitted.reduce((m, r) => Math.max(m, r.prompt.length + r.limit), 0));
    const rows = admitted.reduce((sum, r) => sum + r.prompt.length, 0);
    const tokens = new Int32Array(rows);
    const positions = new Int32Array(rows);
    const slotOf = new Int32Array(rows);
    const lastRows: number[] = [];
    const rowAdapters: (LoraAdapter | null)[] = [];
    let row = 0;
    for (const request of admitted) {
      const prompt = request.prompt;
      for (let i = 0; i < prompt.length; i++, row++) {
        tokens[row] = prompt[i];
        positions[row] = i;
        slotOf[row] = request.slots[0];
        rowAdapters.push(request.adapter);
      }
      lastRows.push(row - 1);
    }
    const logits = this.model.forwardCached(cache, tokens, positions, slotOf, lastRows, routesOf(rowAdapters));
    const V = this.model.config.vocabSize;
    admitted.forEach((request, k) => {
      const promptLength = request.prompt.length;
      const opts = request.options;
      request.callbacks.onStart?.({ promptTokens: promptLength, adapter: request.adapter });
      const logitsRow = logits.subarray(k * V, (k + 1) * V);
      for (let s = 0; s < opts.n; s++) {
        const slot = request.slots[s];
        if (s > 0) cache.copySlot(request.slots[0], slot, promptLength);
        const seq: Sequence = {
          request,
          sampleIndex: s,
          slot,
          position: promptLength,
          tokens: [],
          rng: new Rng(sampleSeed(opts.seed, opts.promptIndex, s)),
          stop: opts.stopStrings.length > 0 ? new StopStringMatcher(opts.stopStrings) : null,
          stream: this.decode !== null && request.callbacks.onToken ? new TextStream() : null,
          finished: false,
        };
        if (this.accept(seq, sampleToken(logitsRow, opts, seq.rng))) this.live.push(seq);
      }
    });
    this.groupLiveByAdapter();
  }

  /** Orders live sequences so each adapter's rows are contiguous in a decode step (one route per adapter). */
  private groupLiveByAdapter(): void {
    const rank = new Map<LoraAdapter | null, number>();
    for (const seq of this.live) if (!rank.has(seq.request.adapter)) rank.set(seq.request.adapter, rank.size);
    if (rank.size > 1) this.live.sort((a, b) => rank.get(a.request.adapter)! - rank.get(b.request.adapter)!);
  }

  /** One token for every live sequence. */
  private decodeStep(): void {
    const live = this.live;
    const count = live.length;
    const tokens = Int32Array.from(live, (seq) => seq.tokens[seq.tokens.length - 1]);
    const positions = Int32Array.from(live, (seq) => seq.position);
    const slotOf = Int32Array.from(live, (seq) => seq.slot);
    const cache = this.cache!;
    const logits = this.model.forwardCached(
      cache,
      tokens,
      positions,
      slotOf,
      Array.from({ length: count }, (_, i) => i),
      routesOf(live.map((seq) => seq.request.adapter)),
    );
    const V = this.model.config.vocabSize;
    const still: Sequence[] = [];
    live.forEach((seq, i) => {
      seq.position++;
      const token = sampleToken(logits.subarray(i * V, (i + 1) * V), seq.request.options, seq.rng);
      if (this.accept(seq, token)) still.push(seq);
    });
    this.live = still;
  }

  private text(ids: number[]): string | null {
    return this.decode ? this.decode(ids) : null;
  }

  /** Appends a sampled token, streams it, and finishes the sample when it is done; returns whether it goes on. */
  private accept(seq: Sequence, token: number): boolean {
    const request = seq.request;
    seq.tokens.push(token);
    this.tokensGenerated++;
    let reason: RequestFinishReason | null = null;
    let text: string | null = null;
    let stable: string | null = null;
    if (request.stopIds.has(token)) {
      reason = "stop_token";
      text = this.text(seq.tokens.slice(0, -1));
    } else if (seq.stop) {
      const check = seq.stop.update(this.text(seq.tokens) ?? "");
      if (check.stopped) {
        reason = "stop_string";
        text = check.text;
      } else stable = seq.stop.stableText;
    }
    if (reason === null && seq.tokens.length >= request.limit) {
      reason = "length";
      text = this.text(seq.tokens);
    }
    const onToken = request.callbacks.onToken;
    if (onToken) {
      let delta = "";
      if (seq.stream !== null)
        delta =
          reason !== null ? seq.stream.finish(text ?? "") : seq.stream.next(stable ?? this.text(seq.tokens) ?? "");
      onToken(seq.sampleIndex, token, delta);
    }
    if (reason === null) return true;
    this.finishSequence(seq, reason, text);
    return false;
  }

  private finishSequence(seq: Sequence, reason: RequestFinishReason, text: string | null): void {
    seq.finished = true;
    this.freeSlots.push(seq.slot);
    this.record(seq.request, {
      promptIndex: seq.request.options.promptIndex,
      sampleIndex: seq.sampleIndex,
      tokens: seq.tokens,
      text,
      finishReason: reason,
    });
  }

  /** Stores a finished sample; settles the request when it was the last. */
  private record(request: Request, generation: SampleGeneration): void {
    request.results[generation.sampleIndex] = generation;
    request.open--;
    if (request.open === 0) {
      if (request.state === "running") this.runningRequests--;
      request.state = "done";
    }
    request.callbacks.onFinish?.(generation.sampleIndex, generation);
    if (request.open === 0) request.resolve(request.results as SampleGeneration[]);
  }

  /** Ends the live samples of cancelled requests (deferred while a step runs). */
  private reapCancelled(): void {
    if (!this.live.some((seq) => seq.request.cancelRequested)) return;
    for (const seq of this.live)
      if (seq.request.cancelRequested && !seq.finished) this.finishSequence(seq, "cancelled", this.text(seq.tokens));
    this.live = this.live.filter((seq) => !seq.finished);
  }

  /** Applies pending adapter switches once nothing runs on the old adapter. */
  private applySwaps(): void {
    if (this.swaps.length === 0 || this.live.length > 0 || this.runningRequests > 0) return;
    const swaps = this.swaps;
    this.swaps = [];
    for (const swap of swaps) {
      this.model.adapter = swap.adapter;
      swap.resolve();
    }
  }
}

/** Routes for rows whose adapters are given row by row: one per run of the same adapter (none for the base model). */
function routesOf(rowAdapters: (LoraAdapter | null)[]): LoraRoute[] {
  const routes: LoraRoute[] = [];
  for (let start = 0; start < rowAdapters.length; ) {
    let end = start + 1;
    while (end < rowAdapters.length && rowAdapters[end] === rowAdapters[start]) end++;
    const adapter = rowAdapters[start];
    if (adapter) routes.push({ adapter, start, rows: end - start, dropoutSeed: null, grad: null });
    start = end;
  }
  return routes;
}
