/**
 * OpenAI's response objects for /v1/chat/completions ("chat") and /v1/completions ("text"), whole and as
 * streamed chunks.
 */
import { randomBytes } from "node:crypto";
import type { GenerationFinishReason, GenerationResult } from "./generation/types.js";

export type CompletionFlavor = "chat" | "text";

/** Fixed for one response: every chunk of a stream repeats them. */
export interface CompletionMeta {
  flavor: CompletionFlavor;
  id: string;
  created: number;
  model: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function completionMeta(flavor: CompletionFlavor, model: string): CompletionMeta {
  const prefix = flavor === "chat" ? "chatcmpl-" : "cmpl-";
  return { flavor, id: prefix + randomBytes(12).toString("hex"), created: Math.floor(Date.now() / 1000), model };
}

/** OpenAI knows "stop" and "length"; a cancelled choice (its client left) never reaches anyone, call it "stop". */
export function openAiFinishReason(reason: GenerationFinishReason): "stop" | "length" {
  return reason === "length" ? "length" : "stop";
}

export function usageOf(result: GenerationResult): Usage {
  const completion = result.choices.reduce((sum, choice) => sum + choice.completionTokens, 0);
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: completion,
    total_tokens: result.promptTokens + completion,
  };
}

/** The non-streamed answer; `extra` carries the `seal` extension. */
export function completionBody(meta: CompletionMeta, result: GenerationResult, extra: Record<string, unknown>): object {
  const choices = result.choices.map((choice) =>
    meta.flavor === "chat"
      ? {
          index: choice.index,
          message: { role: "assistant", content: choice.text, refusal: null },
          logprobs: null,
          finish_reason: openAiFinishReason(choice.finishReason),
        }
      : {
          index: choice.index,
          text: choice.text,
          logprobs: null,
          finish_reason: openAiFinishReason(choice.finishReason),
        },
  );
  return {
    id: meta.id,
    object: meta.flavor === "chat" ? "chat.completion" : "text_completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices,
    usage: usageOf(result),
    ...extra,
  };
}

/** One choice's part of a stream chunk: the role (chat, first chunk), a text delta, or its finish reason. */
export function chunkChoice(
  flavor: CompletionFlavor,
  index: number,
  part: { role: true } | { text: string } | { finish: GenerationFinishReason },
): object {
  const finish = "finish" in part ? openAiFinishReason(part.finish) : null;
  if (flavor === "text") return { index, text: "text" in part ? part.text : "", logprobs: null, finish_reason: finish };
  const delta = "role" in part ? { role: "assistant", content: "" } : "text" in part ? { content: part.text } : {};
  return { index, delta, logprobs: null, finish_reason: finish };
}

export function chunkBody(meta: CompletionMeta, choices: object[], usage: Usage | null = null): object {
  return {
    id: meta.id,
    object: meta.flavor === "chat" ? "chat.completion.chunk" : "text_completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices,
    ...(usage === null ? {} : { usage }),
  };
}
