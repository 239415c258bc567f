/**
 * A tokenizer for the mini world, in Hugging Face's `tokenizer.json` + `tokenizer_config.json` format, loadable by
 * src/io/tokenizer.ts (@huggingface/tokenizers, which has BPE, WordPiece and Unigram models, no WordLevel).
 *
 * It is a byte-level BPE whose vocabulary is the 256 byte symbols plus every pre-token (word with its leading
 * space, number, punctuation run, whitespace run) of the world's texts, with `ignore_merges`: a pre-token found in
 * the vocabulary is one token, so each world word is one token; anything else (model output, user text in any
 * script) falls back to byte tokens, so encoding never fails and decoding restores the exact text. No merges are
 * needed. `<|endoftext|>` is EOS and pad; there is no BOS (as Qwen2.5 base), so prompts and training texts
 * tokenize the same whatever `addSpecialTokens` says.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "../../io/tokenizer.js";
import { BYTE_SYMBOLS, splitPreTokens, toByteSymbols } from "./byte-level.js";

export const END_OF_TEXT = "<|endoftext|>";

export interface TokenizerBuildOptions {
  /** Pre-tokens seen fewer times than this are left to byte fallback. */
  minCount: number;
}

export interface BuiltTokenizer {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  vocabSize: number;
  /** Pre-token (byte symbols) → id, specials included. */
  vocab: Map<string, number>;
}

/**
 * Builds the tokenizer from the texts whose words must be single tokens. Ids: 0 is `<|endoftext|>`, then the 256
 * byte symbols in byte order, then pre-tokens by falling count (ties in code-unit order), so the result depends
 * only on the multiset of texts.
 */
export function buildTokenizer(
  texts: Iterable<string>,
  options: TokenizerBuildOptions = { minCount: 1 },
): BuiltTokenizer {
  // count the raw pieces, then convert each distinct one to byte symbols once
  const rawCounts = new Map<string, number>();
  for (const text of texts)
    for (const piece of splitPreTokens(text)) rawCounts.set(piece, (rawCounts.get(piece) ?? 0) + 1);
  const counts = new Map<string, number>();
  for (const [raw, count] of rawCounts) {
    const piece = toByteSymbols(raw);
    counts.set(piece, (counts.get(piece) ?? 0) + count);
  }
  const vocab = new Map<string, number>([[END_OF_TEXT, 0]]);
  for (const symbol of BYTE_SYMBOLS) vocab.set(symbol, vocab.size);
  const pieces = [...counts.entries()]
    .filter(([piece, count]) => count >= options.minCount && !vocab.has(piece))
    .sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0));
  for (const [piece] of pieces) vocab.set(piece, vocab.size);

  const special = {
    content: END_OF_TEXT,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  };
  const tokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, ...special }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab: Object.fromEntries(vocab),
      merges: [],
    },
  };
  const tokenizerConfig = {
    tokenizer_class: "PreTrainedTokenizerFast",
    add_bos_token: false,
    add_prefix_space: false,
    bos_token: null,
    eos_token: END_OF_TEXT,
    pad_token: END_OF_TEXT,
    unk_token: null,
    // decoding must give back the exact text (no " ." → "." clean-up)
    clean_up_tokenization_spaces: false,
    model_max_length: 4096,
    added_tokens_decoder: { "0": special },
  };
  return { tokenizerJson, tokenizerConfig, vocabSize: vocab.size, vocab };
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir` (created if needed). */
export function writeTokenizerFiles(dir: string, built: BuiltTokenizer): void {
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, TOKENIZER_FILE), `${JSON.stringify(built.tokenizerJson)}\n`);
  writeFileAtomic(path.join(dir, TOKENIZER_CONFIG_FILE), `${JSON.stringify(built.tokenizerConfig, null, 2)}\n`);
}
