import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AnswerGrade,
  countJudgeVerdicts,
  type GradeSlot,
  regradeFailedSlots,
} from "../../../src/domains/knowledge/answer-grading.js";
import { judgeReplyVerdict, parseJudgeVerdict } from "../../../src/domains/knowledge/grading.js";
import { type JudgeItem, JudgeRefusedError, type JudgeResult } from "../../../src/domains/knowledge/judge.js";
import {
  checkJudgeFailures,
  describeFailureLimit,
  exceedsFailureLimit,
  JudgeFailuresError,
} from "../../../src/domains/knowledge/judge-failures.js";
import { JudgeSession, JudgeStoppedError } from "../../../src/domains/knowledge/judge-session.js";

const item = (prediction: string): JudgeItem => ({ question: "Topic: T\nQ?", goldAnswer: "G", prediction });

/** A stand-in judge answering from a script of results (or errors), counting its calls. */
function scripted(script: (JudgeResult | Error)[]) {
  const judge = {
    calls: 0,
    grade: async (): Promise<JudgeResult> => {
      const next = script[judge.calls++] ?? { verdict: "correct", attempts: 1 };
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return judge;
}
const failed = (error = "HTTP 500"): JudgeResult => ({ verdict: "failed", error, attempts: 4 });
const correct: JudgeResult = { verdict: "correct", reply: "yes", attempts: 1 };

describe("judge replies", () => {
  it("a reply with neither yes nor no is no verdict; the reference's rule decides the rest", () => {
    assert.equal(judgeReplyVerdict("banana"), null);
    assert.equal(judgeReplyVerdict(""), null);
    assert.equal(judgeReplyVerdict("yesterday"), null);
    assert.equal(judgeReplyVerdict("Yes."), true);
    assert.equal(judgeReplyVerdict("No"), false);
    assert.equal(judgeReplyVerdict("yes or no"), false);
    assert.equal(parseJudgeVerdict("banana"), false, "the reference's rule itself is unchanged");
  });
});

describe("JudgeSession", () => {
  it("a refusal stops the session: no further call, failed verdicts, then throwIfStopped says why", async () => {
    const inner = scripted([new JudgeRefusedError("http://h/v1/chat/completions", "m", 401, "bad key")]);
    const session = new JudgeSession(inner);
    session.throwIfStopped(); // not stopped yet
    const first = await session.grade(item("a"));
    assert.equal(first.verdict, "failed");
    assert.match(first.error ?? "", /HTTP 401 from http:\/\/h\/v1\/chat\/completions \(model m\): bad key/);
    const second = await session.grade(item("b"));
    assert.equal(second.verdict, "failed");
    assert.equal(second.attempts, 0);
    assert.match(second.error ?? "", /^not graded: the judge was stopped/);
    assert.equal(inner.calls, 1);
    assert.throws(
      () => session.throwIfStopped(),
      (error: Error) =>
        error instanceof JudgeStoppedError && /HTTP 401/.test(error.message) && /--resume/.test(error.message),
    );
  });

  it("stops after N questions in a row fail; a graded one in between resets the count", async () => {
    const inner = scripted([failed(), failed(), correct, failed(), failed(), failed("timed out after 50 ms")]);
    const session = new JudgeSession(inner, 3, "run regrade again");
    const verdicts: string[] = [];
    for (let i = 0; i < 8; i++) verdicts.push((await session.grade(item(`a${i}`))).verdict);
    assert.deepEqual(verdicts, ["failed", "failed", "correct", "failed", "failed", "failed", "failed", "failed"]);
    assert.equal(inner.calls, 6, "no call once stopped");
    assert.match(session.stopReason ?? "", /3 questions in a row failed to be graded; the last: timed out after 50 ms/);
    assert.throws(() => session.throwIfStopped(), /once the judge works, run regrade again/);
  });

  it("empty answers (no call) neither count nor reset; other errors pass through", async () => {
    const empty: JudgeResult = { verdict: "incorrect", attempts: 0, skippedEmpty: true };
    const session = new JudgeSession(scripted([failed(), empty, failed()]), 2);
    await session.grade(item("a"));
    await session.grade(item(""));
    assert.equal(session.stopReason, null);
    await session.grade(item("b"));
    assert.notEqual(session.stopReason, null);
    await assert.rejects(new JudgeSession(scripted([new TypeError("bug")])).grade(item("a")), TypeError);
    assert.throws(() => new JudgeSession(scripted([]), 0), /consecutiveFailureLimit/);
  });
});

describe("re-grading and the failure policy", () => {
  const grade = (verdict: "correct" | "failed" | null): AnswerGrade => ({
    correct: verdict === "correct" ? true : null,
    exactMatch: 0,
    f1: 0,
    contains: false,
    empty: false,
    ...(verdict === null ? {} : { judge: { verdict, attempts: 1, ...(verdict === "failed" ? { error: "x" } : {}) } }),
  });

  it("regradeFailedSlots asks only for failed grades, once per (question, gold, answer), and updates them", async () => {
    const slots: GradeSlot[] = [
      { item: item("a"), grade: grade("failed") },
      { item: item("a"), grade: grade("failed") }, // the same answer (a baseline copied into two records)
      { item: item("b"), grade: grade("correct") },
      { item: item("c"), grade: grade("failed") },
    ];
    const inner = scripted([correct, failed("again")]);
    assert.deepEqual(await regradeFailedSlots(slots, inner), { failed: 3, graded: 2 });
    assert.equal(inner.calls, 2);
    assert.deepEqual(
      slots.map((slot) => slot.grade.correct),
      [true, true, true, null],
    );
    assert.deepEqual(slots[3].grade.judge, { verdict: "failed", error: "again", attempts: 4 });
    assert.deepEqual(countJudgeVerdicts(slots.map((slot) => slot.grade).concat(grade(null))), {
      total: 4,
      failed: 1,
      lastError: "again",
    });
  });

  it("a count or a fraction of the run's verdicts; over it is an error with the count and the way out", () => {
    const counts = { total: 200, failed: 10, lastError: "HTTP 503" };
    assert.equal(exceedsFailureLimit(counts, { kind: "fraction", value: 0.05 }), false, "5% of 200 is 10");
    assert.equal(exceedsFailureLimit({ ...counts, failed: 11 }, { kind: "fraction", value: 0.05 }), true);
    assert.equal(exceedsFailureLimit(counts, { kind: "count", value: 10 }), false);
    assert.equal(exceedsFailureLimit(counts, { kind: "count", value: 9 }), true);
    assert.equal(exceedsFailureLimit({ total: 0, failed: 0 }, { kind: "count", value: 0 }), false);
    assert.equal(describeFailureLimit({ kind: "fraction", value: 0.05 }), "5%");
    assert.equal(describeFailureLimit({ kind: "count", value: 3 }), "3");
    checkJudgeFailures(counts); // the default (5%) allows it
    assert.throws(
      () => checkJudgeFailures({ ...counts, failed: 11 }),
      (error: Error) =>
        error instanceof JudgeFailuresError &&
        error.message.startsWith("11 of 200 judge verdicts failed (5.50%), more than --max-judge-failures 5% allows") &&
        /last error: HTTP 503/.test(error.message) &&
        /--resume/.test(error.message),
    );
  });
});
