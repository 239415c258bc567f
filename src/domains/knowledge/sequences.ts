/**
 * Self-edit → training sequences (reference-implementation.md §1.3, §1.8). The reference is Python, so the string
 * operations follow Python's semantics: `str.strip()` trims Python's whitespace set, `str.splitlines()` breaks at
 * Python's line boundaries, and the regexes' `\s` / `\d` are Python's Unicode classes.
 */

/** Characters for which Python's `str.isspace()` is true (what `str.strip()` removes and `re`'s `\s` matches). */
const PY_WHITESPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, "gu");
const PY_LSTRIP = new RegExp(`^[${PY_WHITESPACE}]+`, "u");
/** Python `str.splitlines()` boundaries. */
const PY_LINE_BREAK_CHARS = "\\n\\r\\v\\f\\x1c\\x1d\\x1e\\x85\\u2028\\u2029";
const PY_LINE_BREAK = new RegExp(`\\r\\n|[${PY_LINE_BREAK_CHARS}]`, "u");
const SELF_QA_QUESTION = new RegExp(`Question[${PY_WHITESPACE}]+\\p{Nd}+:`, "u");
const SELF_QA_ANSWER = new RegExp(`Answer[${PY_WHITESPACE}]*:`, "u");
const SELF_QA_SPLIT = new RegExp(`\\n(?=Question[${PY_WHITESPACE}]+\\p{Nd}+:)`, "u");

/** Python `str.strip()` (no arguments). */
export function pythonStrip(text: string): string {
  return text.replace(PY_STRIP, "");
}

/** Python `str.splitlines()` (without keepends). */
export function pythonSplitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(PY_LINE_BREAK);
  // A trailing line break does not start a new (empty) line in Python.
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** `---`-separated pieces of a self-edit, trimmed, empty ones dropped. */
export function splitOnSeparators(completion: string): string[] {
  return completion
    .split("---")
    .map(pythonStrip)
    .filter((segment) => segment !== "");
}

/** Whether a self-edit looks like self-QA output (`Question N:` and `Answer:` both present). */
export function isSelfQaCompletion(completion: string): boolean {
  return SELF_QA_QUESTION.test(completion) && SELF_QA_ANSWER.test(completion);
}

export interface TrainSequenceOptions {
  /**
   * Split each segment further: self-QA text at every newline that starts a `Question N:`, anything else into
   * one segment per non-empty line (dropping a preamble line when the second line starts with "1.").
   * The paper setting is true; the reference's CPT runs and rank_iter1 used false.
   */
  splitNewlines: boolean;
}

/** The self-edit's segments before the title prefix (§1.3 steps 1–2). */
export function selfEditSegments(completion: string, options: TrainSequenceOptions): string[] {
  let segments = splitOnSeparators(completion);
  if (segments.length === 0) segments = [pythonStrip(completion)];
  if (!options.splitNewlines) return segments;
  if (isSelfQaCompletion(completion)) {
    // Self-QA: the whole completion (separators ignored) is split before each "Question N:".
    segments = pythonStrip(completion).split(SELF_QA_SPLIT);
    if (!segments[0].replace(PY_LSTRIP, "").startsWith("Question")) {
      segments[0] = `Question 1: ${pythonStrip(segments[0])}`;
    }
    return segments;
  }
  segments = segments.flatMap((segment) => pythonSplitLines(segment).map(pythonStrip)).filter((line) => line !== "");
  // A first line like "Sure, here are the implications:" before a numbered list is dropped.
  if (segments.length > 1 && segments[1].startsWith("1.")) segments = segments.slice(1);
  return segments;
}

/** One training sequence: `"{title}\n{text}"`. */
export function trainSequence(title: string, text: string): string {
  return `${title}\n${text}`;
}

/**
 * Training sequences for one self-edit (§1.3): each segment prefixed with `"{title}\n"`, and the passage itself
 * (`"{title}\n{context.strip()}"`) always appended last. An empty completion gives the passage only with
 * `splitNewlines`, and an extra bare `"{title}\n"` sequence without it (as the reference).
 */
export function buildTrainSequences(
  completion: string,
  context: string,
  title: string,
  options: TrainSequenceOptions,
): string[] {
  const sequences = selfEditSegments(completion, options).map((segment) => trainSequence(title, segment));
  sequences.push(trainSequence(title, pythonStrip(context)));
  return sequences;
}

export interface PooledSequenceOptions extends TrainSequenceOptions {
  /**
   * Completions used per article: the first k non-blank ones. 0 means none: the article contributes
   * `buildTrainSequences("", ...)` (passage only), as does an article whose completions are all blank.
   */
  completionsPerArticle: number;
}

/** An article with self-edits, as read from a self-edit file. */
export interface ArticleWithSelfEdits {
  title: string;
  context: string;
  completions: readonly string[];
}

/**
 * Continued-pretraining pool (§1.8, the reference's CPT): the training sequences of every chosen completion of
 * every article, in article order; the passage therefore appears once per completion.
 */
export function buildPooledTrainSequences(
  articles: readonly ArticleWithSelfEdits[],
  options: PooledSequenceOptions,
): string[] {
  if (!Number.isInteger(options.completionsPerArticle) || options.completionsPerArticle < 0) {
    throw new Error(`completionsPerArticle must be a non-negative integer, got ${options.completionsPerArticle}`);
  }
  const pool: string[] = [];
  for (const article of articles) {
    let chosen =
      options.completionsPerArticle === 0
        ? [""]
        : article.completions
            .filter((completion) => pythonStrip(completion) !== "")
            .slice(0, options.completionsPerArticle);
    if (chosen.length === 0) chosen = [""];
    for (const completion of chosen) {
      pool.push(...buildTrainSequences(completion, article.context, article.title, options));
    }
  }
  return pool;
}
