/**
 * Hybrid answering: documents not yet in the weights are found with BM25 (the store's FTS5 index) and put into the
 * prompt; what was consolidated answers from the weights. Which documents are retrievable is the retrieval mode:
 * "none" (weights only), "pending" (the default: only what the weights do not hold yet) or "all".
 */
import type { ChatMessage } from "../../io/chat-template.js";
import { closedBookAnswerPrompt } from "../knowledge/prompts.js";
import type { DocumentState, MemoryStoreApi, NewDocument, RetrievedDocument } from "./types.js";

export const RETRIEVAL_MODES = ["none", "pending", "all"] as const;
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];

/** Passages put into one prompt: a few, so the mini model's 1,024 positions keep room for the answer. */
export const DEFAULT_RETRIEVAL_LIMIT = 3;

/** What prompt rendering needs of a tokenizer (TextTokenizer satisfies it). */
export interface ChatRenderer {
  readonly hasChatTemplate: boolean;
  applyChatTemplate(messages: ChatMessage[], options: { addGenerationPrompt: boolean }): string;
}

export interface HybridPrompt {
  /** The text the model is given. */
  prompt: string;
  /** Best first. */
  retrieved: RetrievedDocument[];
  /** The text retrieval searched with (the last user message, or the completion prompt). */
  query: string;
}

export function retrievalStates(mode: RetrievalMode): DocumentState[] {
  if (mode === "none") return [];
  return mode === "pending" ? ["pending"] : ["pending", "consolidated"];
}

export function retrieve(
  store: MemoryStoreApi,
  query: string,
  mode: RetrievalMode,
  limit = DEFAULT_RETRIEVAL_LIMIT,
): RetrievedDocument[] {
  const states = retrievalStates(mode);
  if (states.length === 0 || query.trim() === "" || limit <= 0) return [];
  return store.search(query, { states, limit });
}

/** The question being asked: the last user message (else the last message of any role). */
export function lastUserMessage(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === "user") return messages[i].content;
  return messages.length === 0 ? "" : messages[messages.length - 1].content;
}

/** Passages as the knowledge prompts show them: the title on its own line, then the text. */
export function passagesText(retrieved: readonly RetrievedDocument[]): string {
  return retrieved.map(({ document }) => `${document.title}\n${document.text}\n\n`).join("");
}

/**
 * The prompt for a model without a chat template (the shipped SEAL-mini is a base model): the retrieved passages,
 * then the question in the closed-book answer format the mini model was trained on. Earlier turns and system
 * messages are not shown — a base model has no notion of them, and they would crowd its short context.
 */
export function baseModelChatPrompt(question: string, retrieved: readonly RetrievedDocument[]): string {
  return passagesText(retrieved) + closedBookAnswerPrompt(question);
}

/** The system text that carries retrieved documents to a chat model. */
export function retrievalSystemText(retrieved: readonly RetrievedDocument[]): string {
  const documents = retrieved.map(({ document }, i) => `[${i + 1}] ${document.title}\n${document.text}`);
  return `Use these documents from memory when they are relevant:\n\n${documents.join("\n\n")}`;
}

/**
 * Chat messages with the retrieved documents in the system message (appended to the client's own, since many
 * templates allow one system message, first).
 */
export function withRetrievedDocuments(
  messages: ChatMessage[],
  retrieved: readonly RetrievedDocument[],
): ChatMessage[] {
  if (retrieved.length === 0) return messages;
  const text = retrievalSystemText(retrieved);
  const [first, ...rest] = messages;
  if (first?.role === "system") return [{ ...first, content: `${first.content}\n\n${text}` }, ...rest];
  return [{ role: "system", content: text }, ...messages];
}

export function buildChatPrompt(input: {
  store: MemoryStoreApi;
  renderer: ChatRenderer;
  messages: ChatMessage[];
  mode: RetrievalMode;
  limit?: number;
}): HybridPrompt {
  const query = lastUserMessage(input.messages);
  const retrieved = retrieve(input.store, query, input.mode, input.limit);
  const prompt = input.renderer.hasChatTemplate
    ? input.renderer.applyChatTemplate(withRetrievedDocuments(input.messages, retrieved), {
        addGenerationPrompt: true,
      })
    : baseModelChatPrompt(query, retrieved);
  return { prompt, retrieved, query };
}

/** A raw completion prompt: the retrieved passages go before the client's text, which is kept as given. */
export function buildCompletionPrompt(input: {
  store: MemoryStoreApi;
  prompt: string;
  mode: RetrievalMode;
  limit?: number;
}): HybridPrompt {
  const retrieved = retrieve(input.store, input.prompt, input.mode, input.limit);
  return { prompt: passagesText(retrieved) + input.prompt, retrieved, query: input.prompt };
}

/** The document a remembered exchange becomes (`seal.remember: true`). */
export function experienceDocument(question: string, answer: string): NewDocument {
  return { kind: "experience", source: "chat", text: `Question: ${question.trim()}\nAnswer: ${answer.trim()}` };
}
