/**
 * Prompt → completion SFT rows (ReST-EM's M-step data; TRL 0.18 `SFTTrainer` on prompt/completion rows): each
 * `{prompt, completion}` row becomes one training example whose loss covers the completion only.
 *
 * The prompt and the completion are tokenized separately and concatenated; an EOS token is appended to the
 * completion (TRL appends `eos_token` to the completion), so the generator learns to stop after a self-edit. The
 * prompt is tokenized with the tokenizer's special tokens (as `seal knowledge generate` encodes raw prompts; Qwen
 * adds none), the completion without; a prompt that already starts with the BOS text (a hand-built chat string, as
 * ARC's self-edit prompt) gets no second BOS. Nothing is truncated (the reference sets `max_length` to the longest example).
 */
import type { SftExample } from "../engine/train.js";
import type { TextTokenizer } from "../io/tokenizer.js";

export interface SftRow {
  prompt: string;
  completion: string;
}

/** One tokenized row: `tokens = promptIds ++ completionIds ++ [eos]`, loss on positions ≥ `completionStart`. */
export interface SftTokenizedRow extends SftExample {
  tokens: number[];
  lossMask: boolean[];
  /** Index of the first completion token (= number of prompt tokens). */
  completionStart: number;
  /** Completion tokens trained, the EOS included. */
  completionTokens: number;
}

/** Tokenizes one row with completion-only loss. */
export function tokenizeSftRow(tokenizer: TextTokenizer, row: SftRow, eosTokenId: number): SftTokenizedRow {
  const hasBos = tokenizer.bosToken !== null && row.prompt.startsWith(tokenizer.bosToken);
  const promptIds = tokenizer.encode(row.prompt, { addSpecialTokens: !hasBos });
  const completionIds = tokenizer.encode(row.completion, { addSpecialTokens: false });
  if (completionIds[completionIds.length - 1] !== eosTokenId) completionIds.push(eosTokenId);
  const tokens = [...promptIds, ...completionIds];
  const lossMask = tokens.map((_, i) => i >= promptIds.length);
  return {
    tokens,
    lossMask,
    completionStart: promptIds.length,
    completionTokens: completionIds.length,
  };
}

/**
 * Tokenizes SFT rows (completion-only loss, EOS appended). Errors name the row: an empty prompt leaves the first
 * completion token without a context to predict it from.
 */
export function tokenizeSftRows(
  tokenizer: TextTokenizer,
  rows: readonly SftRow[],
  eosTokenId: number,
): SftTokenizedRow[] {
  return rows.map((row, index) => {
    const example = tokenizeSftRow(tokenizer, row, eosTokenId);
    if (example.completionStart === 0) throw new Error(`SFT row ${index}: the prompt is empty`);
    return example;
  });
}

/** The EOS id to append: the tokenizer's `eos_token`, else the model's first stop token. */
export function sftEosTokenId(tokenizer: TextTokenizer, modelEosTokenIds: readonly number[]): number {
  const id = tokenizer.eosTokenIds[0] ?? modelEosTokenIds[0];
  if (id === undefined) throw new Error(`${tokenizer.source}: no EOS token (tokenizer_config.json or config.json)`);
  return id;
}
