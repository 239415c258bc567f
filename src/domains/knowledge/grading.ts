/**
 * Answer grading for closed-book QA (knowledge incorporation).
 *
 * Two families live here:
 * - SQuAD v1.1 official metrics (normalization, exact match, token F1) plus a lenient containment check.
 *   The reference SEAL code uses none of them (its correctness comes only from an LLM judge, spec §1.5/§5);
 *   they are offered as cheap, deterministic, offline graders and diagnostics.
 * - The reference's judge-reply rule: a reply is "correct" iff it contains the word "yes" and not the word
 *   "no" (case-insensitive, whole words), and an empty prediction is wrong without asking anyone; a reply with
 *   neither word is no verdict (a failed grading).
 */

/** Python's `string.punctuation`: exactly the 32 ASCII punctuation characters (unicode punctuation is kept). */
const ASCII_PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

/**
 * Articles as whole words. Python 3's `\b` on `str` is unicode-aware (a word character is a letter, digit or
 * underscore in any script), whereas JavaScript's `\b` is ASCII-only, so the boundaries are spelled out.
 */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** Python's `str.split()` whitespace (`str.isspace`): note \x1c-\x1f and \x85 are included and \ufeff is not. */
const PYTHON_WHITESPACE_CLASS =
  "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PYTHON_WHITESPACE = new RegExp(`${PYTHON_WHITESPACE_CLASS}+`, "u");
const ONLY_PYTHON_WHITESPACE = new RegExp(`^${PYTHON_WHITESPACE_CLASS}*$`, "u");

/**
 * SQuAD v1.1 `normalize_answer`: lowercase, drop ASCII punctuation, replace the articles a/an/the by a space,
 * then collapse whitespace (split + join with single spaces, which also trims).
 */
export function normalizeAnswer(text: string): string {
  const lowered = text.toLowerCase();
  let withoutPunctuation = "";
  for (const ch of lowered) if (!ASCII_PUNCTUATION.has(ch)) withoutPunctuation += ch;
  const withoutArticles = withoutPunctuation.replace(ARTICLES, " ");
  return answerTokensOfNormalized(withoutArticles).join(" ");
}

function answerTokensOfNormalized(text: string): string[] {
  return text.split(PYTHON_WHITESPACE).filter((token) => token.length > 0);
}

/** The tokens SQuAD's F1 counts: the normalized answer split on whitespace. */
export function answerTokens(text: string): string[] {
  return answerTokensOfNormalized(normalizeAnswer(text));
}

function bestOver(golds: string | readonly string[], score: (gold: string) => number): number {
  const list = typeof golds === "string" ? [golds] : golds;
  if (list.length === 0) throw new Error("grading needs at least one gold answer");
  let best = 0;
  for (const gold of list) best = Math.max(best, score(gold));
  return best;
}

/**
 * SQuAD exact match: 1 when the normalized prediction equals a normalized gold answer, else 0. With several gold
 * answers the best is taken (`metric_max_over_ground_truths`).
 */
export function exactMatch(prediction: string, gold: string | readonly string[]): number {
  const normalizedPrediction = normalizeAnswer(prediction);
  return bestOver(gold, (answer) => (normalizeAnswer(answer) === normalizedPrediction ? 1 : 0));
}

/**
 * SQuAD v1.1 token F1 over normalized tokens, counting repeated tokens as a multiset (Counter intersection).
 * As in the v1.1 script (unlike v2.0) there is no special case for empty answers: no common token means 0,
 * even when both sides are empty.
 */
export function tokenF1(prediction: string, gold: string | readonly string[]): number {
  const predictionTokens = answerTokens(prediction);
  return bestOver(gold, (answer) => f1OfTokens(predictionTokens, answerTokens(answer)));
}

function f1OfTokens(predictionTokens: readonly string[], goldTokens: readonly string[]): number {
  const goldCounts = new Map<string, number>();
  for (const token of goldTokens) goldCounts.set(token, (goldCounts.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of predictionTokens) {
    const left = goldCounts.get(token) ?? 0;
    if (left > 0) {
      common += 1;
      goldCounts.set(token, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predictionTokens.length;
  const recall = common / goldTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * Lenient match: the normalized gold answer occurs in the normalized prediction as a whole-token run
 * ("the Mongols won in 1221." contains "1221"; "1945" does not contain "4"). An empty normalized gold never
 * matches. With several gold answers any one suffices.
 */
export function containsGold(prediction: string, gold: string | readonly string[]): boolean {
  const paddedPrediction = ` ${normalizeAnswer(prediction)} `;
  return (
    bestOver(gold, (answer) => {
      const normalizedGold = normalizeAnswer(answer);
      return normalizedGold.length > 0 && paddedPrediction.includes(` ${normalizedGold} `) ? 1 : 0;
    }) === 1
  );
}

const YES_WORD = /\byes\b/i;
const NO_WORD = /\bno\b/i;

/**
 * The reference's verdict rule for a judge reply: true iff the reply contains the word "yes" and does not
 * contain the word "no" (case-insensitive, whole words). "Yes." → true; "No" → false; "yes or no" → false;
 * "yesterday" → false.
 */
export function parseJudgeVerdict(reply: string): boolean {
  return YES_WORD.test(reply) && !NO_WORD.test(reply);
}

/**
 * The verdict of a judge reply, or null when the reply holds neither the word "yes" nor "no" ("banana", an empty
 * reply): that is no verdict at all, so it is a failed grading rather than a wrong answer (the reference would count
 * it wrong). A reply holding both words is wrong, as in the reference.
 */
export function judgeReplyVerdict(reply: string): boolean | null {
  if (!YES_WORD.test(reply) && !NO_WORD.test(reply)) return null;
  return parseJudgeVerdict(reply);
}

/**
 * True when a prediction is empty after Python's `.strip()`; the reference marks such answers wrong without
 * grading them.
 */
export function isEmptyPrediction(prediction: string): boolean {
  return ONLY_PYTHON_WHITESPACE.test(prediction);
}
