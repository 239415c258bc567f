/**
 * The request bodies of /v1/chat/completions and /v1/completions, validated with zod. OpenAI's names and ranges;
 * fields this server does not implement are ignored (clients send many), except those whose meaning it would
 * silently change (logprobs, echo, suffix, tools), which are refused naming the field.
 */
import { z } from "zod";
import { RETRIEVAL_MODES } from "../domains/memory/hybrid.js";

/** Choices per request at most (each decodes in its own batch slot). */
export const MAX_CHOICES = 16;
/** OpenAI's limit on stop sequences. */
export const MAX_STOP_SEQUENCES = 4;

const textPartSchema = z.looseObject({ type: z.literal("text"), text: z.string() });

const messageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  // A string, text parts (joined), or null (an assistant turn that only called tools).
  content: z.union([z.string(), z.array(textPartSchema), z.null()]).optional(),
  name: z.string().optional(),
});

const stopSchema = z.union([
  z.string().min(1),
  z.array(z.string().min(1)).max(MAX_STOP_SEQUENCES, `at most ${MAX_STOP_SEQUENCES} stop sequences`),
  z.null(),
]);

const sealExtensionSchema = z.strictObject({
  retrieval: z.enum(RETRIEVAL_MODES).optional(),
  remember: z.boolean().optional(),
});

/** Refused when set to anything but "off": this server cannot honour them. */
const unsupported = z.union([z.null(), z.literal(false), z.literal(0)]).optional();

const samplingShape = {
  model: z.string().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  n: z.number().int().min(1).max(MAX_CHOICES).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop: stopSchema.optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  logprobs: unsupported,
  seal: sealExtensionSchema.optional(),
};

export const chatCompletionRequestSchema = z.looseObject({
  ...samplingShape,
  messages: z.array(messageSchema).min(1, "at least one message"),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  tools: z.array(z.unknown()).max(0, "tools are not supported").nullable().optional(),
});

export const completionRequestSchema = z.looseObject({
  ...samplingShape,
  // One prompt; a one-element list is accepted too (several prompts per request are not supported).
  prompt: z.union([z.string(), z.array(z.string()).length(1, "exactly one prompt")]),
  echo: unsupported,
  suffix: z.union([z.null(), z.literal("")]).optional(),
  best_of: z.union([z.null(), z.literal(1)]).optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type ChatRequestMessage = ChatCompletionRequest["messages"][number];

/** A message's text: text parts are joined; a missing or null content is empty. */
export function messageText(message: ChatRequestMessage): string {
  const content = message.content;
  if (content === undefined || content === null) return "";
  return typeof content === "string" ? content : content.map((part) => part.text).join("");
}

export function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop === undefined || stop === null) return [];
  return typeof stop === "string" ? [stop] : stop;
}
