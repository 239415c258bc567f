/**
 * Any user text → a safe FTS5 MATCH expression. FTS5's query syntax gives meaning to quotes, `*`, `-`, `:`, `^`,
 * parentheses and the words AND/OR/NOT/NEAR, so raw text is never passed: it is cut into runs of letters, digits
 * and marks, each run becomes a quoted string (a phrase the tokenizer splits as it split the documents) and the
 * runs are OR-ed, so BM25 ranks documents by how many and how rare the words they share are.
 */

/** Longer queries keep their first words: a pasted page must not become a thousand-term OR. */
export const MAX_QUERY_TERMS = 64;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * English function words carry no topic: OR-ed in, "was" or "the" would retrieve every document. They are left out
 * unless the text has nothing else (then they are all it has).
 */
const STOPWORDS = new Set(
  (
    "a an and are as at be but by did do does for from had has have he her his how i in is it its me my of on or our " +
    "she so that the their them they this to was we were what when where which who whom why will with you your"
  ).split(" "),
);

/** The MATCH expression for `text`, or null when it has no word at all (then nothing matches). */
export function ftsMatchQuery(text: string): string | null {
  const words = [...text.normalize("NFC").matchAll(WORD)].map(([word]) => word);
  const topical = words.filter((word) => !STOPWORDS.has(word.toLowerCase()));
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const word of topical.length > 0 ? topical : words) {
    const key = word.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    // A word holds no double quote, but quoting is done properly anyway: the safety must not rest on the regex.
    terms.push(`"${word.replaceAll('"', '""')}"`);
    if (terms.length === MAX_QUERY_TERMS) break;
  }
  return terms.length === 0 ? null : terms.join(" OR ");
}
