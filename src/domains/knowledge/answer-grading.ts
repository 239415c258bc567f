/**
 * Grading closed-book answers against the gold answers, locally or through an LLM judge (reference-implementation.md
 * §1.5), and the accuracy over the verdicts. Used by `knowledge evaluate`, `cpt` and `continual`.
 *
 * Differences from the reference, on purpose:
 * - a judge call that still fails after its retries is recorded as failed and left out of every accuracy, instead
 *   of counting as wrong; such verdicts are graded again later (`regradeFailedSlots`, on --resume and by
 *   `seal knowledge regrade`) from the answers kept in the records;
 * - local grading (no judge) uses "the gold answer is contained in the answer" as the headline verdict; SQuAD
 *   exact match and F1 are recorded beside it.
 */
import type { EvaluationPassage } from "./evaluation-passages.js";
import { containsGold, exactMatch, isEmptyPrediction, tokenF1 } from "./grading.js";
import type { GraderConfig } from "./inner-loop-config.js";
import { ChatCompletionsJudge, type JudgeItem, type JudgeResult, type JudgeVerdict } from "./judge.js";
import type { VerdictCounts } from "./judge-failures.js";
import { JudgeSession, type JudgeSettings } from "./judge-session.js";
import { closedBookQuestion } from "./prompts.js";

export interface AnswerGrade {
  /** The headline verdict: contains-gold (local grader) or the judge's yes/no; null when the judge call failed. */
  correct: boolean | null;
  exactMatch: number;
  f1: number;
  contains: boolean;
  empty: boolean;
  judge?: { verdict: JudgeVerdict; reply?: string; error?: string; attempts: number };
}

/** What grades answers through a judge (ChatCompletionsJudge, or a stand-in in tests). */
export interface AnswerJudge {
  grade(item: JudgeItem): Promise<JudgeResult>;
}

/**
 * The grade of a question whose inner loop diverged (training stopped on a non-finite loss): there is no answer, so
 * it is scored wrong (zero reward) and never sent to a judge.
 */
export function divergedGrade(): AnswerGrade {
  return { correct: false, exactMatch: 0, f1: 0, contains: false, empty: true };
}

export function gradeLocally(answer: string, gold: string): AnswerGrade {
  const contains = containsGold(answer, gold);
  return {
    correct: contains,
    exactMatch: exactMatch(answer, gold),
    f1: tokenF1(answer, gold),
    contains,
    empty: isEmptyPrediction(answer),
  };
}

/** Sets a grade's headline verdict and judge details from a judge result. */
function applyJudgeResult(grade: AnswerGrade, result: JudgeResult): void {
  grade.correct = result.verdict === "failed" ? null : result.verdict === "correct";
  grade.judge = { verdict: result.verdict, attempts: result.attempts };
  if (result.reply !== undefined) grade.judge.reply = result.reply;
  if (result.error !== undefined) grade.judge.error = result.error;
}

/** The judge item of one closed-book question (the reference's "Topic: {title}\n{question}"). */
export function judgeItemOf(title: string, question: string, gold: string, answer: string): JudgeItem {
  return { question: closedBookQuestion(title, question), goldAnswer: gold, prediction: answer };
}

/** Grades a passage's answers in question order (judge calls one at a time, as the reference). */
export async function gradeAnswers(
  passage: Pick<EvaluationPassage, "title" | "questions">,
  answers: readonly string[],
  judge: AnswerJudge | null,
): Promise<AnswerGrade[]> {
  const grades: AnswerGrade[] = [];
  for (let q = 0; q < passage.questions.length; q++) {
    const { question, answer: gold } = passage.questions[q];
    const grade = gradeLocally(answers[q], gold);
    if (judge !== null)
      applyJudgeResult(grade, await judge.grade(judgeItemOf(passage.title, question, gold, answers[q])));
    grades.push(grade);
  }
  return grades;
}

/** True when the judge was asked for this grade's verdict and none came back. */
export function isFailedGrade(grade: Pick<AnswerGrade, "judge">): boolean {
  return grade.judge?.verdict === "failed";
}

/** A stored grade with the question it grades, for re-grading. */
export interface GradeSlot {
  item: JudgeItem;
  grade: AnswerGrade;
}

/**
 * Asks the judge again for every failed grade among `slots` and updates those grades in place (a grade that fails
 * again keeps the new error); a (question, gold, answer) asked once is not asked again, so a baseline copied into
 * several records costs one call. Returns how many grades were failed before and how many are graded now.
 */
export async function regradeFailedSlots(
  slots: readonly GradeSlot[],
  judge: AnswerJudge,
  asked: Map<string, JudgeResult> = new Map(),
): Promise<{ failed: number; graded: number }> {
  let failed = 0;
  let graded = 0;
  for (const { item, grade } of slots) {
    if (!isFailedGrade(grade)) continue;
    failed++;
    const key = JSON.stringify([item.question, item.goldAnswer, item.prediction]);
    let result = asked.get(key);
    if (result === undefined) {
      result = await judge.grade(item);
      asked.set(key, result);
    }
    applyJudgeResult(grade, result);
    if (!isFailedGrade(grade)) graded++;
  }
  return { failed, graded };
}

/** How many of `grades` asked the judge for a verdict, and how many of those failed (with the last error). */
export function countJudgeVerdicts(grades: Iterable<Pick<AnswerGrade, "judge">>): VerdictCounts {
  const counts: VerdictCounts = { total: 0, failed: 0 };
  for (const grade of grades) {
    if (grade.judge === undefined) continue;
    counts.total++;
    if (grade.judge.verdict === "failed") {
      counts.failed++;
      if (grade.judge.error !== undefined) counts.lastError = grade.judge.error;
    }
  }
  return counts;
}

/** Accuracy over the graded verdicts (failed ones left out); null when none was graded. */
export function accuracyOf(grades: readonly Pick<AnswerGrade, "correct">[]): number | null {
  const graded = grades.filter((grade) => grade.correct !== null);
  return graded.length === 0 ? null : graded.filter((grade) => grade.correct).length / graded.length;
}

/**
 * The judge session a run grades with: none for local grading, else the request's judge (tests) or an
 * OpenAI-compatible one, behind a session that stops asking when asking is pointless (judge-session.ts).
 */
export function judgeOf(
  grader: GraderConfig,
  request: { judge?: AnswerJudge; judgeApiKey?: string; judgeSettings?: JudgeSettings },
  resumeHint?: string,
): JudgeSession | null {
  if (grader.kind !== "judge") return null;
  const settings = request.judgeSettings ?? {};
  const judge =
    request.judge ??
    new ChatCompletionsJudge({
      baseUrl: grader.baseUrl,
      model: grader.model,
      apiKey: request.judgeApiKey,
      timeoutMs: settings.timeoutMs,
      maxAttempts: settings.maxAttempts,
      initialBackoffMs: settings.initialBackoffMs,
    });
  return new JudgeSession(judge, settings.consecutiveFailureLimit, resumeHint);
}
