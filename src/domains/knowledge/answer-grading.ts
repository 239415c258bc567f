/**
 * Grading closed-book answers against the gold answers, locally or through an LLM judge (reference-implementation.md
 * §1.5), and the accuracy over the verdicts. Used by `knowledge evaluate`, `cpt` and `continual`.
 *
 * Differences from the reference, on purpose:
 * - a judge call that still fails after its retries is recorded as failed and left out of every accuracy, instead
 *   of counting as wrong;
 * - local grading (no judge) uses "the gold answer is contained in the answer" as the headline verdict; SQuAD
 *   exact match and F1 are recorded beside it.
 */
import type { EvaluationPassage } from "./evaluation-passages.js";
import { containsGold, exactMatch, isEmptyPrediction, tokenF1 } from "./grading.js";
import type { GraderConfig } from "./inner-loop-config.js";
import { ChatCompletionsJudge, type JudgeItem, type JudgeResult, type JudgeVerdict } from "./judge.js";
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
    if (judge !== null) {
      const result = await judge.grade({
        question: closedBookQuestion(passage.title, question),
        goldAnswer: gold,
        prediction: answers[q],
      });
      grade.correct = result.verdict === "failed" ? null : result.verdict === "correct";
      grade.judge = { verdict: result.verdict, attempts: result.attempts };
      if (result.reply !== undefined) grade.judge.reply = result.reply;
      if (result.error !== undefined) grade.judge.error = result.error;
    }
    grades.push(grade);
  }
  return grades;
}

/** Accuracy over the graded verdicts (failed ones left out); null when none was graded. */
export function accuracyOf(grades: readonly Pick<AnswerGrade, "correct">[]): number | null {
  const graded = grades.filter((grade) => grade.correct !== null);
  return graded.length === 0 ? null : graded.filter((grade) => grade.correct).length / graded.length;
}

/** The judge a run grades with: none for local grading, else the request's (tests) or an OpenAI-compatible one. */
export function judgeOf(
  grader: GraderConfig,
  request: { judge?: AnswerJudge; judgeApiKey?: string },
): AnswerJudge | null {
  if (grader.kind !== "judge") return null;
  return (
    request.judge ??
    new ChatCompletionsJudge({ baseUrl: grader.baseUrl, model: grader.model, apiKey: request.judgeApiKey })
  );
}
