/**
 * The generation service on the server's thread: a worker thread (worker.ts) owns the model and runs the
 * continuous batcher; this side only posts requests and routes the worker's events to each request's callbacks
 * and promise, so the event loop never waits on model work. The bounded queue is counted here, so a full queue
 * answers at once.
 */
import { Worker } from "node:worker_threads";
// Loaded here too, not only in the worker: Node unloads a worker's addons when it exits, and libgomp's thread pool
// then runs unmapped code (a segfault at close); loading on this thread also sets the real OMP/OpenBLAS thread
// environment (a worker's process.env is only a copy).
import "../../native/index.js";
import type { FromWorker, RequestEvent, ToWorker, WorkerData } from "./protocol.js";
import {
  type GenerationChoice,
  GenerationError,
  type GenerationEvents,
  type GenerationHandle,
  type GenerationRequest,
  type GenerationResult,
  type GenerationService,
  type GenerationServiceOptions,
  type GenerationStats,
  QueueFullError,
} from "./types.js";

/** How long close() waits for the worker to wind down before terminating it. */
const CLOSE_TIMEOUT_MS = 10_000;

const WORKER_FILE = new URL("./worker.js", import.meta.url);

/** The service, plus why its worker stopped (null while it serves; then every call fails with that reason). */
export interface RunningGenerationService extends GenerationService {
  readonly failed: Error | null;
}

interface Pending {
  events: GenerationEvents;
  started: boolean;
  /** Its done already rejected here (a callback threw); the worker's remaining events are dropped. */
  abandoned: boolean;
  promptTokens: number;
  adapter: string | null;
  choices: GenerationChoice[];
  resolve(result: GenerationResult): void;
  reject(error: Error): void;
}

function positiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

class WorkerGenerationService implements RunningGenerationService {
  private readonly pending = new Map<string, Pending>();
  private readonly adapterTickets = new Map<number, { resolve(): void; reject(error: Error): void }>();
  private nextId = 1;
  private nextTicket = 1;
  private waiting = 0;
  private runningCount = 0;
  private generatedTokens = 0;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private closedMessage: (() => void) | null = null;

  constructor(
    private readonly worker: Worker,
    readonly modelId: string,
    readonly contextLength: number,
    private adapter: string | null,
    private readonly maxBatch: number,
    private readonly maxQueue: number,
  ) {
    worker.on("message", (message: FromWorker) => this.receive(message));
    worker.on("error", (error) => this.die(error));
    worker.on("exit", (code) => this.die(new Error(`the generation worker exited with code ${code}`)));
  }

  /** Why the worker stopped (null while it serves). */
  get failed(): Error | null {
    return this.failure;
  }

  submit(request: GenerationRequest, events: GenerationEvents = {}): GenerationHandle {
    const id = `gen-${this.nextId++}`;
    if (this.failure !== null || this.closing !== null) {
      const reason = this.failure?.message ?? "the generation service is closed";
      const done = Promise.reject(new GenerationError(reason, "internal"));
      done.catch(() => {});
      return { id, done, cancel() {} };
    }
    // Unfinished requests: up to maxBatch decode, up to maxQueue more wait (counted here, where a burst arrives,
    // not from the worker's reports, which lag a burst by a step).
    if (this.pending.size >= this.maxBatch + this.maxQueue) throw new QueueFullError(this.maxQueue);
    let resolve!: (result: GenerationResult) => void;
    let reject!: (error: Error) => void;
    const done = new Promise<GenerationResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller that stopped listening (client gone) must not crash the server with an unhandled rejection.
    done.catch(() => {});
    this.pending.set(id, {
      events,
      started: false,
      abandoned: false,
      promptTokens: 0,
      adapter: null,
      choices: [],
      resolve,
      reject,
    });
    this.waiting++;
    this.send({ type: "submit", id, request });
    return {
      id,
      done,
      cancel: () => {
        if (this.pending.has(id) && this.failure === null) this.send({ type: "cancel", id });
      },
    };
  }

  setAdapter(adapterDir: string | null): Promise<void> {
    if (this.failure !== null || this.closing !== null)
      return Promise.reject(
        new GenerationError(this.failure?.message ?? "the generation service is closed", "internal"),
      );
    const ticket = this.nextTicket++;
    return new Promise((resolve, reject) => {
      this.adapterTickets.set(ticket, { resolve, reject });
      this.send({ type: "adapter", ticket, adapterDir });
    });
  }

  stats(): GenerationStats {
    return {
      running: this.runningCount,
      queued: this.waiting,
      generatedTokens: this.generatedTokens,
      adapter: this.adapter,
    };
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      if (this.failure === null) {
        const closed = new Promise<void>((resolve) => {
          this.closedMessage = resolve;
        });
        this.send({ type: "close" });
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        });
        await Promise.race([closed, timeout]);
        clearTimeout(timer);
      }
      this.failAll(new GenerationError("the generation service closed", "internal"));
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private receive(message: FromWorker): void {
    if (message.type === "events") {
      this.generatedTokens = message.counts.generatedTokens;
      for (const event of message.events) this.dispatch(event);
    } else if (message.type === "adapter") {
      const ticket = this.adapterTickets.get(message.ticket);
      this.adapterTickets.delete(message.ticket);
      if (message.error !== null) ticket?.reject(new Error(`cannot load the adapter: ${message.error}`));
      else {
        this.adapter = message.adapter;
        ticket?.resolve();
      }
    } else if (message.type === "closed") this.closedMessage?.();
  }

  private dispatch(event: RequestEvent): void {
    const request = this.pending.get(event.id);
    if (request === undefined) return;
    if (event.type === "start") {
      request.started = true;
      this.waiting--;
      this.runningCount++;
      request.promptTokens = event.promptTokens;
      request.adapter = event.adapter;
      this.notify(request, event.id, (e) => e.onStart?.({ promptTokens: event.promptTokens }));
    } else if (event.type === "delta") {
      this.notify(request, event.id, (e) => e.onDelta?.(event.index, event.text));
    } else if (event.type === "end") {
      const { index, text, finishReason, completionTokens } = event;
      request.choices.push({ index, text, finishReason, completionTokens });
      this.notify(request, event.id, (e) => e.onChoiceEnd?.(index, finishReason));
    } else {
      this.settle(event.id, request);
      if (request.abandoned) return;
      if (event.type === "done") {
        request.choices.sort((a, b) => a.index - b.index);
        request.resolve({ promptTokens: request.promptTokens, choices: request.choices, adapter: request.adapter });
      } else request.reject(new GenerationError(event.message, event.kind, event.field));
    }
  }

  /** Calls a request's callback; one that throws ends the request with that error. */
  private notify(request: Pending, id: string, call: (events: GenerationEvents) => void): void {
    if (request.abandoned) return;
    try {
      call(request.events);
    } catch (error) {
      request.abandoned = true;
      request.reject(error instanceof Error ? error : new Error(String(error)));
      this.send({ type: "cancel", id });
    }
  }

  private settle(id: string, request: Pending): void {
    this.pending.delete(id);
    if (request.started) this.runningCount--;
    else this.waiting--;
  }

  private failAll(error: GenerationError): void {
    for (const [id, request] of this.pending) {
      this.settle(id, request);
      if (!request.abandoned) request.reject(error);
    }
    for (const ticket of this.adapterTickets.values()) ticket.reject(error);
    this.adapterTickets.clear();
  }

  private die(error: Error): void {
    if (this.failure !== null || this.closing !== null) return;
    this.failure = error;
    process.stderr.write(`seal serve: the generation worker stopped: ${error.message}\n`);
    this.failAll(new GenerationError(`the generation worker stopped: ${error.message}`, "internal"));
  }
}

/**
 * Starts the worker, waits until the model is loaded, and returns the service. `workerFile` is for tests (a script
 * that wraps the real worker, e.g. to make it crash).
 */
export async function startGenerationService(
  options: GenerationServiceOptions,
  workerFile: URL = WORKER_FILE,
): Promise<RunningGenerationService> {
  positiveInteger(options.maxBatch, "maxBatch");
  positiveInteger(options.maxQueue, "maxQueue");
  const workerData: WorkerData = {
    modelDir: options.modelDir,
    adapterDir: options.adapterDir,
    maxBatch: options.maxBatch,
  };
  const worker = new Worker(workerFile, { workerData });
  const ready = await new Promise<Extract<FromWorker, { type: "ready" }>>((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type === "ready") done(() => resolve(message));
      else if (message.type === "failed") done(() => reject(new Error(message.message)));
    };
    const onError = (error: Error) => done(() => reject(error));
    const onExit = (code: number) =>
      done(() => reject(new Error(`the generation worker exited with code ${code} while loading the model`)));
    const done = (settle: () => void) => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      settle();
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  }).catch(async (error) => {
    await worker.terminate();
    throw error;
  });
  return new WorkerGenerationService(
    worker,
    ready.modelId,
    ready.contextLength,
    ready.adapter,
    options.maxBatch,
    options.maxQueue,
  );
}
