/**
 * Any user text → a safe FTS5 MATCH expression. FTS5's query syntax gives meaning to quotes, `*`, `-`, `:`, `^`,
 * parentheses and the words AND/OR/NOT/NEAR, so raw text is never passed: it is cut into runs of letters, digits
 * and marks, each run becomes a quoted string (a phrase the tokenizer splits as it split the documents) and the
 * runs are OR-ed, so BM25 ranks documents by how many and how rare the words they share are.
 */

/** Longer queries keep their first words: a pasted page must not become a thousand-term OR. */
export const MAX_QUERY_TERMS = 64;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** The MATCH expression for `text`, or null when it has no word at all (then nothing matches). */
export function ftsMatchQuery(text: string): string | null {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const [word] of text.normalize("NFC").matchAll(WORD)) {
    const key = word.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    // A word holds no double quote, but quoting is done properly anyway: the safety must not rest on the regex.
    terms.push(`"${word.replaceAll('"', '""')}"`);
    if (terms.length === MAX_QUERY_TERMS) break;
  }
  return terms.length === 0 ? null : terms.join(" OR ");
}
