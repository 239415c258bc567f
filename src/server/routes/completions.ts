/**
 * POST /v1/chat/completions and /v1/completions. The prompt is built here (hybrid retrieval + the chat template,
 * cheap string work); tokenizing and decoding happen in the generation worker. A client that goes away cancels
 * its generation, streamed or not.
 */

import { randomInt } from "node:crypto";
import path from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  buildChatPrompt,
  buildCompletionPrompt,
  experienceDocument,
  type HybridPrompt,
} from "../../domains/memory/hybrid.js";
import {
  type CompletionFlavor,
  type CompletionMeta,
  chunkBody,
  chunkChoice,
  completionBody,
  completionMeta,
  usageOf,
} from "../completion-format.js";
import {
  type ChatCompletionRequest,
  type CompletionRequest,
  chatCompletionRequestSchema,
  completionRequestSchema,
  messageText,
  stopList,
} from "../completion-schemas.js";
import { DEFAULT_MAX_TOKENS, type ServerDeps } from "../deps.js";
import { fromZodError, invalidRequest, toApiError } from "../errors.js";
import type { GenerationHandle, GenerationRequest, GenerationResult } from "../generation/types.js";
import { SseStream } from "../sse.js";

/** A validated request, ready to submit. */
interface PreparedCompletion {
  flavor: CompletionFlavor;
  generation: GenerationRequest;
  hybrid: HybridPrompt;
  remember: boolean;
  stream: boolean;
  includeUsage: boolean;
}

/** Seeds the engine takes are unsigned 32-bit; OpenAI's are any integer (negative ones wrap). */
function engineSeed(seed: number | null | undefined): number {
  if (seed === undefined || seed === null) return randomInt(2 ** 31);
  return ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

type SamplingFields = Pick<ChatCompletionRequest, "temperature" | "top_p" | "n" | "seed" | "stop">;

function sampling(body: SamplingFields, maxTokens: number | null | undefined, deps: ServerDeps, prompt: string) {
  const context = deps.generation.contextLength;
  if (maxTokens !== null && maxTokens !== undefined && maxTokens > context)
    throw invalidRequest(`max_tokens: ${maxTokens} is more than the model's context (${context} tokens)`, "max_tokens");
  return {
    prompt,
    maxTokens: maxTokens ?? Math.min(deps.defaultMaxTokens ?? DEFAULT_MAX_TOKENS, context),
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    n: body.n ?? 1,
    seed: engineSeed(body.seed),
    stop: stopList(body.stop),
  } satisfies GenerationRequest;
}

function prepareChat(body: ChatCompletionRequest, deps: ServerDeps): PreparedCompletion {
  const messages = body.messages.map((message) => ({ role: message.role, content: messageText(message) }));
  const hybrid = buildChatPrompt({
    store: deps.store,
    renderer: deps.renderer,
    messages,
    mode: body.seal?.retrieval ?? deps.retrieval ?? "pending",
    limit: deps.retrievalLimit,
  });
  return {
    flavor: "chat",
    generation: sampling(body, body.max_completion_tokens ?? body.max_tokens, deps, hybrid.prompt),
    hybrid,
    remember: body.seal?.remember ?? false,
    stream: body.stream ?? false,
    includeUsage: body.stream_options?.include_usage ?? false,
  };
}

function prepareText(body: CompletionRequest, deps: ServerDeps): PreparedCompletion {
  const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0];
  const hybrid = buildCompletionPrompt({
    store: deps.store,
    prompt,
    mode: body.seal?.retrieval ?? deps.retrieval ?? "pending",
    limit: deps.retrievalLimit,
  });
  return {
    flavor: "text",
    generation: sampling(body, body.max_tokens, deps, hybrid.prompt),
    hybrid,
    remember: body.seal?.remember ?? false,
    stream: body.stream ?? false,
    includeUsage: body.stream_options?.include_usage ?? false,
  };
}

/** The store's version whose adapter folder served the request (null: the base model, or not a stored one). */
function adapterVersionOf(deps: ServerDeps, adapterDir: string | null): number | null {
  if (adapterDir === null) return null;
  const served = path.resolve(adapterDir);
  const version = deps.store
    .listVersions()
    .find((v) => v.adapterPath !== null && path.resolve(deps.dataDir, v.adapterPath) === served);
  return version?.id ?? null;
}

/** Stores the exchange as an experience document; returns its id (null when the answer was empty). */
function rememberExchange(deps: ServerDeps, prepared: PreparedCompletion, result: GenerationResult): string | null {
  const answer = result.choices[0]?.text ?? "";
  if (answer.trim() === "" || prepared.hybrid.query.trim() === "") return null;
  return deps.store.addDocument(experienceDocument(prepared.hybrid.query, answer)).document.id;
}

/** Cancels the generation when the connection closes before the answer was written. */
function cancelOnDisconnect(reply: FastifyReply, handle: GenerationHandle): void {
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) handle.cancel();
  });
}

async function answerWhole(deps: ServerDeps, prepared: PreparedCompletion, reply: FastifyReply): Promise<object> {
  const meta = completionMeta(prepared.flavor, deps.generation.modelId);
  const handle = deps.generation.submit(prepared.generation);
  cancelOnDisconnect(reply, handle);
  const result = await handle.done;
  const remembered = prepared.remember ? rememberExchange(deps, prepared, result) : null;
  return completionBody(meta, result, {
    seal: {
      retrieved: prepared.hybrid.retrieved.map((r) => r.document.id),
      adapter_version: adapterVersionOf(deps, result.adapter),
      ...(prepared.remember ? { remembered } : {}),
    },
  });
}

function answerStream(deps: ServerDeps, prepared: PreparedCompletion, reply: FastifyReply): void {
  const meta: CompletionMeta = completionMeta(prepared.flavor, deps.generation.modelId);
  const flavor = prepared.flavor;
  const sse = new SseStream(reply.raw);
  // Submitted before the stream opens: a full queue still answers a plain 429.
  const handle = deps.generation.submit(prepared.generation, {
    onDelta: (index, text) => sse.send(chunkBody(meta, [chunkChoice(flavor, index, { text })])),
    onChoiceEnd: (index, finish) => sse.send(chunkBody(meta, [chunkChoice(flavor, index, { finish })])),
  });
  reply.hijack();
  sse.open();
  cancelOnDisconnect(reply, handle);
  // The opening chunks also say what retrieval put into the prompt (non-streamed answers carry it in `seal`).
  const retrieved = { seal: { retrieved: prepared.hybrid.retrieved.map((r) => r.document.id) } };
  if (flavor === "chat")
    for (let index = 0; index < prepared.generation.n; index++)
      sse.send({ ...chunkBody(meta, [chunkChoice(flavor, index, { role: true })]), ...retrieved });
  handle.done.then(
    (result) => {
      if (prepared.includeUsage) sse.send(chunkBody(meta, [], usageOf(result)));
      sse.end();
      // A client that left mid-answer cancelled it: a cut answer is not worth remembering.
      if (prepared.remember && result.choices[0]?.finishReason !== "cancelled") rememberSafely(deps, prepared, result);
    },
    (error: unknown) => {
      sse.send(toApiError(error).body);
      sse.end(false);
    },
  );
}

/** After a stream ended the client cannot be told of a failure to remember; it goes to the server log. */
function rememberSafely(deps: ServerDeps, prepared: PreparedCompletion, result: GenerationResult): void {
  try {
    rememberExchange(deps, prepared, result);
  } catch (error) {
    (deps.log ?? console.error)(`seal serve: could not remember a streamed exchange: ${String(error)}`);
  }
}

async function complete(
  deps: ServerDeps,
  prepared: PreparedCompletion,
  reply: FastifyReply,
): Promise<object | undefined> {
  if (!prepared.stream) return answerWhole(deps, prepared, reply);
  answerStream(deps, prepared, reply);
  return undefined;
}

export function registerCompletionRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.post("/v1/chat/completions", async (request: FastifyRequest, reply) => {
    const parsed = chatCompletionRequestSchema.safeParse(request.body);
    if (!parsed.success) throw fromZodError(parsed.error);
    return complete(deps, prepareChat(parsed.data, deps), reply);
  });
  app.post("/v1/completions", async (request: FastifyRequest, reply) => {
    const parsed = completionRequestSchema.safeParse(request.body);
    if (!parsed.success) throw fromZodError(parsed.error);
    return complete(deps, prepareText(parsed.data, deps), reply);
  });
}
