/**
 * The generation worker thread: owns the model, tokenizer and adapter, and drives the continuous batcher. Between
 * two forwards it yields to its message port (setImmediate), so new requests, cancels and adapter switches arrive
 * while a batch decodes.
 */
import path from "node:path";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { ContinuousBatcher, type RequestHandle } from "../../engine/batcher.js";
import type { LoraAdapter } from "../../engine/lora.js";
import { Model } from "../../engine/model.js";
import { InvalidRequestError, type RequestFinishReason } from "../../engine/request.js";
import { inspectModel, loadModel } from "../../io/model-files.js";
import { loadAdapter } from "../../io/peft.js";
import { checkTokenizerFitsModel, loadTokenizer } from "../../io/tokenizer.js";
import type { FromWorker, RequestEvent, ToWorker, WorkerData } from "./protocol.js";
import type { GenerationFinishReason, GenerationRequest } from "./types.js";

function workerPort(): MessagePort {
  if (parentPort === null) throw new Error("the generation worker must run in a worker thread");
  return parentPort;
}
const port = workerPort();
const post = (message: FromWorker) => port.postMessage(message);

/** The API's names for the engine's request fields (OpenAI's parameters). */
const API_FIELD: Record<string, string> = {
  prompt: "prompt",
  maxNewTokens: "max_tokens",
  temperature: "temperature",
  topP: "top_p",
  topK: "top_k",
  n: "n",
  stopStrings: "stop",
};

const FINISH: Record<RequestFinishReason, GenerationFinishReason> = {
  stop_token: "stop",
  stop_string: "stop",
  length: "length",
  cancelled: "cancelled",
};

function load(data: WorkerData) {
  const inspected = inspectModel(data.modelDir);
  const tokenizer = loadTokenizer(data.modelDir);
  checkTokenizerFitsModel(tokenizer, inspected.config, data.modelDir);
  const loaded = loadModel(inspected);
  const model = new Model(loaded.config, loaded.weights);
  const readAdapter = (dir: string): LoraAdapter =>
    loadAdapter(dir, loaded.config, { base: loaded.weights, log: (line) => process.stderr.write(`${line}\n`) });
  if (data.adapterDir !== null) model.adapter = readAdapter(data.adapterDir);
  const stopTokenIds = [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])];
  return { model, tokenizer, stopTokenIds, readAdapter };
}

function serve(data: WorkerData, loaded: ReturnType<typeof load>): void {
  const { model, tokenizer, stopTokenIds, readAdapter } = loaded;
  const batcher = new ContinuousBatcher(model, {
    maxBatch: data.maxBatch,
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
  });
  /** Which folder each loaded adapter came from (requests report it). */
  const adapterNames = new WeakMap<LoraAdapter, string>();
  if (model.adapter !== null && data.adapterDir !== null) adapterNames.set(model.adapter, data.adapterDir);
  const nameOf = (adapter: LoraAdapter | null) => (adapter === null ? null : (adapterNames.get(adapter) ?? null));
  const handles = new Map<string, RequestHandle>();
  let events: RequestEvent[] = [];
  let scheduled = false;
  let closing = false;

  const flush = () => {
    if (events.length === 0) return;
    const counts = { running: batcher.running, queued: batcher.waiting, generatedTokens: batcher.generatedTokens };
    post({ type: "events", events, counts });
    events = [];
  };

  const tick = () => {
    scheduled = false;
    let worked = true;
    try {
      // false only when nothing can run now; the next message schedules again (no busy loop)
      worked = batcher.step();
    } catch (error) {
      // The requests involved already failed (their error events are queued); the batcher goes on.
      process.stderr.write(`seal serve: generation step failed: ${(error as Error).message}\n`);
    }
    flush();
    if (worked) schedule();
  };
  function schedule() {
    if (!scheduled && !batcher.idle) {
      scheduled = true;
      setImmediate(tick);
    }
  }

  const submit = (id: string, request: GenerationRequest) => {
    const invalid = (message: string, field: string | null) =>
      events.push({ type: "error", id, kind: "invalid", message, field });
    if (request.prompt.length === 0) return invalid("the prompt is empty", "prompt");
    const bos = tokenizer.bosToken;
    // A chat template already wrote the BOS token into the text; a raw prompt gets it from the tokenizer.
    const ids = tokenizer.encode(request.prompt, { addSpecialTokens: bos === null || !request.prompt.startsWith(bos) });
    let finished = 0;
    try {
      const handle = batcher.submit(
        ids,
        {
          temperature: request.temperature,
          topP: request.topP,
          topK: 0,
          maxNewTokens: request.maxTokens,
          n: request.n,
          stopTokenIds,
          stopStrings: request.stop,
          seed: request.seed,
          beyondContext: "refuse",
        },
        {
          onStart: ({ promptTokens, adapter }) =>
            events.push({ type: "start", id, promptTokens, adapter: nameOf(adapter) }),
          onToken: (index, _token, text) => {
            if (text.length > 0) events.push({ type: "delta", id, index, text });
          },
          onFinish: (index, generation) => {
            events.push({
              type: "end",
              id,
              index,
              finishReason: FINISH[generation.finishReason],
              text: generation.text ?? "",
              completionTokens: generation.tokens.length,
            });
            if (++finished === request.n) {
              handles.delete(id);
              events.push({ type: "done", id });
            }
          },
          onError: (error) => {
            handles.delete(id);
            events.push({ type: "error", id, kind: "internal", message: error.message, field: null });
          },
        },
      );
      handles.set(id, handle);
    } catch (error) {
      if (!(error instanceof InvalidRequestError)) throw error;
      invalid(error.message, API_FIELD[error.field] ?? error.field);
    }
  };

  const switchAdapter = (ticket: number, adapterDir: string | null) => {
    let adapter: LoraAdapter | null = null;
    try {
      if (adapterDir !== null) {
        adapter = readAdapter(adapterDir);
        adapterNames.set(adapter, adapterDir);
      }
    } catch (error) {
      post({ type: "adapter", ticket, adapter: null, error: (error as Error).message });
      return;
    }
    batcher
      .setAdapter(adapter)
      .then(() => post({ type: "adapter", ticket, adapter: adapterDir, error: null }))
      .then(schedule);
  };

  port.on("message", (message: ToWorker) => {
    if (closing) return;
    if (message.type === "submit") {
      try {
        submit(message.id, message.request);
      } catch (error) {
        // A malformed request must not take the worker (and every other request) down.
        events.push({
          type: "error",
          id: message.id,
          kind: "internal",
          message: (error as Error).message,
          field: null,
        });
      }
    } else if (message.type === "cancel") handles.get(message.id)?.cancel();
    else if (message.type === "adapter") switchAdapter(message.ticket, message.adapterDir);
    else if (message.type === "close") {
      closing = true;
      batcher.cancelAll();
      flush();
      post({ type: "closed" });
      port.close();
      return;
    }
    flush();
    schedule();
  });
  post({
    type: "ready",
    modelId: path.basename(path.resolve(data.modelDir)),
    contextLength: model.config.maxPositionEmbeddings,
    adapter: data.adapterDir,
  });
}

const data = workerData as WorkerData;
let loaded: ReturnType<typeof load> | null = null;
try {
  loaded = load(data);
} catch (error) {
  post({ type: "failed", message: (error as Error).message });
  port.close();
}
if (loaded !== null) serve(data, loaded);
