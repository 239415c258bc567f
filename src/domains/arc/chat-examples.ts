/**
 * Chat-formatted ARC texts as token sequences (reference-implementation.md §2.5): a conversation rendered with the
 * model's own chat template, tokenized, with the loss mask of the training strategy.
 *
 * Differences from the reference, on purpose:
 * - the rendered text already starts with the template's BOS, so it is tokenized without adding another one (the
 *   reference's tokenizer adds a second BOS);
 * - a training text ends with the assistant's answer and end-of-turn token; the reference renders it with
 *   `add_generation_prompt=True`, which appends an empty assistant header that it then trains on;
 * - sequences are not padded, so no pad token is ever a target (the reference trains on its pads).
 * - the date the Llama 3.2 template writes into its system block is fixed (default: the template's own fallback,
 *   "26 Jul 2024") instead of today's, so the same run gives the same tokens on any day.
 */
import type { SftExample } from "../../engine/train.js";
import type { ChatMessage, TextTokenizer } from "../../io/tokenizer.js";
import type { TrainingStrategy } from "./self-edit-config.js";

/** The template's fallback date: what transformers renders when the template has no clock. */
export const DEFAULT_TEMPLATE_DATE = "26 Jul 2024";

export interface ChatRenderOptions {
  /** `date_string` for templates that write today's date (Llama 3.x). */
  date: string;
}

export const DEFAULT_CHAT_RENDER: Readonly<ChatRenderOptions> = { date: DEFAULT_TEMPLATE_DATE };

/** The prompt text for `messages`, ending with the header that opens the assistant's turn. */
export function renderPrompt(tokenizer: TextTokenizer, messages: ChatMessage[], options = DEFAULT_CHAT_RENDER): string {
  return tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, extra: { date_string: options.date } });
}

/** Prompt token ids (the template writes the BOS, so none is added). */
export function encodePrompt(
  tokenizer: TextTokenizer,
  messages: ChatMessage[],
  options = DEFAULT_CHAT_RENDER,
): number[] {
  return tokenizer.encode(renderPrompt(tokenizer, messages, options), { addSpecialTokens: false });
}

/** The whole training text: `messages` followed by `answer` as the assistant's turn, nothing after it. */
export function renderTrainingText(
  tokenizer: TextTokenizer,
  messages: ChatMessage[],
  answer: string,
  options = DEFAULT_CHAT_RENDER,
): string {
  return tokenizer.applyChatTemplate([...messages, { role: "assistant", content: answer }], {
    addGenerationPrompt: false,
    extra: { date_string: options.date },
  });
}

export interface ChatTrainingExample extends SftExample {
  tokens: number[];
  lossMask: boolean[] | null;
  /** Tokens of the prompt part (system, demonstrations, the test input and the assistant header). */
  promptTokens: number;
}

/**
 * A training sequence: `messages` (ending with the user turn) followed by `answer` as the assistant's turn.
 * `train_using_output_tokens` puts the loss on the answer and its end-of-turn token only.
 */
export function encodeTrainingExample(
  tokenizer: TextTokenizer,
  messages: ChatMessage[],
  answer: string,
  strategy: TrainingStrategy,
  options = DEFAULT_CHAT_RENDER,
): ChatTrainingExample {
  const prompt = renderPrompt(tokenizer, messages, options);
  const full = renderTrainingText(tokenizer, messages, answer, options);
  if (!full.startsWith(prompt)) {
    throw new Error(
      `${tokenizer.source}: the chat template does not render a conversation as its prompt followed by the answer; ` +
        "cannot tell the answer's tokens apart",
    );
  }
  const promptIds = tokenizer.encode(prompt, { addSpecialTokens: false });
  const tokens = tokenizer.encode(full, { addSpecialTokens: false });
  const prefixMatches = promptIds.length < tokens.length && promptIds.every((id, i) => tokens[i] === id);
  if (!prefixMatches) {
    throw new Error(
      `${tokenizer.source}: the prompt's tokens are not a prefix of the whole conversation's tokens ` +
        "(a token spans the assistant header and the answer); cannot mask the prompt",
    );
  }
  const lossMask = strategy === "train_using_all_tokens" ? null : tokens.map((_, i) => i >= promptIds.length);
  return { tokens, lossMask, promptTokens: promptIds.length };
}
