/**
 * Self-generated probe questions for documents given without any: the model (or teacher) is prompted with the
 * knowledge domain's `self-qa` prompt ("rewrite it in a question-answer format", which ends in "Question 1: "), and
 * the `Question…: … Answer: …` pairs of its completions are parsed. Model output is untrusted text, so the parser
 * keeps only well-formed pairs: a one-line question ending in "?", a short one-line answer, no duplicates, and (by
 * default) grounded ones: the answer occurs in the document and so does every capitalised word of the question
 * but a leading question word (names), which drops invented values and questions about people the writer made up (SEAL-mini
 * often swaps a first name). Probes made this way are marked
 * `origin: "generated"`; a document for which none survive has no probes, and the gate says so.
 */
import { containsGold, normalizeAnswer } from "../knowledge/grading.js";
import { buildSelfEditPrompt } from "../knowledge/prompts.js";
import type { Probe } from "./types.js";

export type ProbePromptStyle = "self-qa" | "implications";

/** The prompt a writer is given to produce probes for a document. */
export function probePrompt(style: ProbePromptStyle, title: string, text: string): string {
  return buildSelfEditPrompt(style, title, text);
}

/** The text to parse: the self-qa prompt already holds the first "Question 1: ", so it is put back. */
export function probeCompletionText(style: ProbePromptStyle, completion: string): string {
  return style === "self-qa" ? `Question 1: ${completion}` : completion;
}

const MARKER = /(Question(?:[ \t]*\d+)?|Answer)[ \t]*:/giu;
const MAX_QUESTION_CHARS = 300;
const MAX_ANSWER_CHARS = 120;

/**
 * Every `Question[ N]: <question> Answer: <answer>` pair in `text` (the answer on the same line as the question or
 * on the next), in order. The question is what lies between the two markers and must be one line ending in "?";
 * the answer runs to the end of its line or the next marker, a final period dropped.
 */
export function parseQuestionAnswerPairs(text: string): Array<{ question: string; answer: string }> {
  const markers = [...text.matchAll(MARKER)].map((m) => ({
    kind: m[1].toLowerCase().startsWith("q") ? ("question" as const) : ("answer" as const),
    start: m.index,
    end: m.index + m[0].length,
  }));
  const pairs: Array<{ question: string; answer: string }> = [];
  for (let i = 0; i + 1 < markers.length; i++) {
    const q = markers[i];
    const a = markers[i + 1];
    if (q.kind !== "question" || a.kind !== "answer") continue;
    const question = text.slice(q.end, a.start).trim();
    const answerEnd = i + 2 < markers.length ? markers[i + 2].start : text.length;
    let answer = text.slice(a.end, answerEnd);
    const newline = answer.search(/[\r\n]/u);
    if (newline >= 0) answer = answer.slice(0, newline);
    answer = answer.trim().replace(/\.$/u, "").trim();
    if (question.length < 3 || question.length > MAX_QUESTION_CHARS || /[\r\n]/u.test(question)) continue;
    if (!question.endsWith("?")) continue;
    if (answer.length === 0 || answer.length > MAX_ANSWER_CHARS) continue;
    pairs.push({ question, answer });
  }
  return pairs;
}

const CAPITALISED_WORD = /\p{Lu}[\p{L}\p{N}'’-]*/gu;
/** Words a question may start with (capitalised there without being a name). */
const QUESTION_WORDS = new Set(
  "What Where Who Whom Whose Which When Why How In From At On For To By With Of Did Does Do Is Was Were Are Has Had Have Can The A An".split(
    " ",
  ),
);

/** Whether a pair's answer and the names in its question come from the document. */
export function isGrounded(pair: { question: string; answer: string }, documentText: string): boolean {
  if (!containsGold(documentText, pair.answer)) return false;
  const words = [...pair.question.matchAll(CAPITALISED_WORD)]
    .filter((m) => m.index > 0 || !QUESTION_WORDS.has(m[0]))
    .map((m) => m[0]);
  return words.every((word) => documentText.includes(word.replace(/['’]s$/u, "")));
}

export interface ProbeSelection {
  maxPerDocument: number;
  /**
   * Keep a pair only when its normalized answer occurs in the document as a whole-token run and every capitalised
   * word of the question (a leading question word aside) occurs in the document (or its title).
   */
  requireGrounded: boolean;
}

/** Generated probes for a document from its writer's completions: parsed, filtered, deduplicated, capped. */
export function probesFromCompletions(
  completions: readonly string[],
  /** The document's title and text: what grounded pairs must come from. */
  documentText: string,
  style: ProbePromptStyle,
  selection: ProbeSelection,
): Probe[] {
  const seen = new Set<string>();
  const probes: Probe[] = [];
  for (const completion of completions) {
    for (const pair of parseQuestionAnswerPairs(probeCompletionText(style, completion))) {
      if (probes.length >= selection.maxPerDocument) return probes;
      const key = normalizeAnswer(pair.question);
      if (key === "" || seen.has(key) || normalizeAnswer(pair.answer) === "") continue;
      if (selection.requireGrounded && !isGrounded(pair, documentText)) continue;
      seen.add(key);
      probes.push({ question: pair.question, answer: pair.answer, origin: "generated" });
    }
  }
  return probes;
}
