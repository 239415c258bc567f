/**
 * SFT data for `seal train`: JSONL lines turned into token sequences with loss masks.
 *
 * - `{"text": ...}`: language modelling, loss on every token.
 * - `{"prompt": ..., "completion": ...}`: loss on the completion only (unless `lossOnAllTokens`).
 * - `{"messages": [...]}`: a conversation ending with the assistant's message; loss on that last assistant turn
 *   only. The prompt is the conversation before it, rendered with the chat template and the assistant's turn
 *   opened (the generation prompt); the completion is what the template renders for the last turn (the full
 *   rendering minus that prompt, so it carries the template's own end-of-turn tokens). Templates whose full
 *   rendering does not start with the prompt rendering fall back to the assistant's content + EOS.
 *
 * Prompt and completion are tokenized separately and their ids concatenated, rather than tokenizing their
 * concatenated text: a BPE merge across the boundary (e.g. "Answer:" + " Paris" → a token that straddles both)
 * would make the prompt/completion split of the ids ambiguous, and the prompt's ids would no longer be those
 * the model sees at generation time, where the prompt is tokenized alone. This is also how the common HF recipe
 * (and, as far as we know, SEAL's reference trainer) builds `input_ids` / `labels = -100` for the prompt.
 *
 * Special tokens: raw prompts and texts are encoded with the tokenizer's special tokens (e.g. Llama's BOS), as
 * `seal generate` encodes raw prompts; completions without (they continue a sequence); chat renderings without
 * (the template writes them). An EOS id is appended to texts and completions (unless `appendEos` is false) so the
 * model learns to stop, as TRL's SFTTrainer does.
 */
import { z } from "zod";
import type { SftExample } from "../../engine/train.js";
import { validateJson } from "../../io/json-file.js";
import type { ChatMessage, TextTokenizer } from "../../io/tokenizer.js";
import { chatMessagesSchema, type JsonlRecord, where } from "./jsonl.js";

export interface TrainDataOptions {
  /** Train on the prompt's tokens too (prompt/completion and messages lines). */
  lossOnAllTokens: boolean;
  /** Append the EOS id to texts and completions. */
  appendEos: boolean;
  /** EOS id to append (null: the tokenizer/model has none; then appendEos must be false). */
  eosTokenId: number | null;
  /** Examples longer than this many tokens are cut to it. */
  maxLength: number;
}

export interface TrainData {
  examples: SftExample[];
  /** Examples that were cut to maxLength. */
  truncated: number;
  /** Examples dropped because no token was left to train on (e.g. the prompt filled maxLength). */
  skipped: number;
  /** Tokens that carry a loss, over all examples. */
  targetTokens: number;
}

const textLine = z.looseObject({ text: z.string() });
const promptCompletionLine = z.looseObject({ prompt: z.string(), completion: z.string() });
const messagesLine = z.looseObject({ messages: chatMessagesSchema });

const SHAPES = 'expected an object with "text", with "prompt" and "completion", or with "messages"';

/** One validated data line. */
export type TrainLine = { where: string } & (
  | { kind: "text"; text: string }
  | { kind: "prompt-completion"; prompt: string; completion: string }
  | { kind: "messages"; messages: ChatMessage[] }
);

/** Validates every record's shape (no tokenizer needed, so bad data fails before a model is loaded). */
export function parseTrainLines(records: JsonlRecord[], file: string): TrainLine[] {
  return records.map((record) => {
    const at = where(file, record);
    const value = record.value;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${at}: ${SHAPES}`);
    const present = ["text", "prompt", "completion", "messages"].filter((key) => key in value);
    if (("text" in value || "messages" in value) && present.length > 1)
      throw new Error(`${at}: fields ${present.map((key) => `"${key}"`).join(" and ")} mixed; ${SHAPES}`);
    if ("text" in value) return { where: at, kind: "text", text: validateJson(value, textLine, at).text };
    if ("messages" in value) {
      const { messages } = validateJson(value, messagesLine, at);
      const last = messages[messages.length - 1];
      if (last.role !== "assistant")
        throw new Error(
          `${at}: field "messages": the last message must be the assistant's (role "assistant"), got role "${last.role}"`,
        );
      return { where: at, kind: "messages", messages };
    }
    if ("prompt" in value || "completion" in value) {
      const line = validateJson(value, promptCompletionLine, at);
      return { where: at, kind: "prompt-completion", prompt: line.prompt, completion: line.completion };
    }
    throw new Error(`${at}: ${SHAPES}`);
  });
}

interface Segments {
  prompt: number[];
  completion: number[];
}

function segmentsOf(line: TrainLine, tokenizer: TextTokenizer, options: TrainDataOptions): Segments {
  const eos = (): number[] => {
    if (!options.appendEos) return [];
    if (options.eosTokenId === null)
      throw new Error("no EOS token to end the completion (the tokenizer names none); pass --no-eos");
    return [options.eosTokenId];
  };
  switch (line.kind) {
    case "text":
      return { prompt: [], completion: [...tokenizer.encode(line.text, { addSpecialTokens: true }), ...eos()] };
    case "prompt-completion":
      return {
        prompt: tokenizer.encode(line.prompt, { addSpecialTokens: true }),
        completion: [...tokenizer.encode(line.completion, { addSpecialTokens: false }), ...eos()],
      };
    case "messages": {
      const { messages } = line;
      const full = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: false });
      const prompt = tokenizer.applyChatTemplate(messages.slice(0, -1), { addGenerationPrompt: true });
      const promptIds = tokenizer.encode(prompt, { addSpecialTokens: false });
      if (full.startsWith(prompt))
        return {
          prompt: promptIds,
          completion: tokenizer.encode(full.slice(prompt.length), { addSpecialTokens: false }),
        };
      const last = messages[messages.length - 1];
      return {
        prompt: promptIds,
        completion: [...tokenizer.encode(last.content, { addSpecialTokens: false }), ...eos()],
      };
    }
  }
}

/** Tokenizes every line into an example with its loss mask; errors name `file:line`. */
export function buildTrainData(lines: TrainLine[], tokenizer: TextTokenizer, options: TrainDataOptions): TrainData {
  const examples: SftExample[] = [];
  let truncated = 0;
  let skipped = 0;
  let targetTokens = 0;
  for (const line of lines) {
    let segments: Segments;
    try {
      segments = segmentsOf(line, tokenizer, options);
    } catch (error) {
      throw new Error(`${line.where}: ${(error as Error).message}`);
    }
    const { prompt, completion } = segments;
    let tokens = [...prompt, ...completion];
    let mask = new Uint8Array(tokens.length);
    mask.fill(1, options.lossOnAllTokens ? 0 : prompt.length);
    if (tokens.length > options.maxLength) {
      tokens = tokens.slice(0, options.maxLength);
      mask = mask.slice(0, options.maxLength);
      truncated++;
    }
    // Position 0 is never a target (nothing precedes it).
    let targets = 0;
    for (let i = 1; i < tokens.length; i++) targets += mask[i];
    if (targets === 0) {
      skipped++;
      continue;
    }
    targetTokens += targets;
    examples.push({ tokens, lossMask: mask });
  }
  return { examples, truncated, skipped, targetTokens };
}
