/**
 * GPT-2 byte-level pre-tokenization, as the ByteLevel pre-tokenizer of Hugging Face tokenizers does it
 * (`use_regex: true`, `add_prefix_space: false`): split with the GPT-2 pattern, then write each piece's UTF-8 bytes
 * as printable characters (a space is "Ġ", a newline "Ċ"). Every string maps to pieces over 256 byte symbols, so a
 * vocabulary holding those symbols encodes any text.
 */

/** The GPT-2 split pattern (the one @huggingface/tokenizers and the Rust library use). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Byte → printable character (GPT-2's bytes_to_unicode). */
export const BYTE_SYMBOLS: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const symbols = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    symbols[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + next++);
  }
  return symbols;
})();

const encoder = new TextEncoder();

/** A piece of text as byte symbols. */
export function toByteSymbols(text: string): string {
  let out = "";
  for (const byte of encoder.encode(text)) out += BYTE_SYMBOLS[byte];
  return out;
}

/** The pieces `text` splits into, before the byte mapping. */
export function splitPreTokens(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

/** The byte-level pre-tokens of `text`. */
export function preTokenize(text: string): string[] {
  return splitPreTokens(text).map(toByteSymbols);
}
