/**
 * A run's use of the LLM judge: the settings a command passes (time limit, attempts, failure budget) and the
 * session every grading of one run goes through. The session stops asking the judge once asking is pointless: at
 * the first refusal that no retry can fix (`JudgeRefusedError`: a bad key, an unknown model) and after a run of
 * consecutive failed questions (a judge that is down or hangs would otherwise cost every question its full
 * timeout × attempts). After a stop, every further question fails at once without a call, so the run can still
 * record the answers it has (they are re-graded later), and the run calls `throwIfStopped()` once they are safe.
 */
import type { AnswerJudge } from "./answer-grading.js";
import { type JudgeItem, JudgeRefusedError, type JudgeResult } from "./judge.js";
import { type FailureLimit, RESUME_TO_REGRADE } from "./judge-failures.js";

/** Questions failing one after another (after their retries) that make a session stop asking. */
export const DEFAULT_CONSECUTIVE_FAILURE_LIMIT = 5;

/** How a run uses its judge: none of this is part of the run's config, so it may change on --resume. */
export interface JudgeSettings {
  /** One call's time limit in ms (default 60 s). */
  timeoutMs?: number;
  /** Calls per question, first try included (default 4). */
  maxAttempts?: number;
  /** Sleep before the first retry in ms, doubled per retry (default 1500; tests shrink it). */
  initialBackoffMs?: number;
  /** The failed verdicts a run may have and still succeed (default 5%). */
  maxFailures?: FailureLimit;
  /** Consecutive failed questions that stop the session (default 5). */
  consecutiveFailureLimit?: number;
}

/** The run stopped asking the judge; the message says why and how to finish the grading. */
export class JudgeStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JudgeStoppedError";
  }
}

export class JudgeSession implements AnswerJudge {
  #stopReason: string | null = null;
  #consecutiveFailures = 0;

  constructor(
    private readonly inner: AnswerJudge,
    private readonly consecutiveFailureLimit = DEFAULT_CONSECUTIVE_FAILURE_LIMIT,
    /** What the user does once the judge works again (ends the stop message). */
    private readonly resumeHint = RESUME_TO_REGRADE,
  ) {
    if (!Number.isInteger(consecutiveFailureLimit) || consecutiveFailureLimit < 1) {
      throw new Error(`judge: consecutiveFailureLimit must be an integer ≥ 1, got ${consecutiveFailureLimit}`);
    }
  }

  /** Why the session stopped asking (null while it still asks). */
  get stopReason(): string | null {
    return this.#stopReason;
  }

  async grade(item: JudgeItem): Promise<JudgeResult> {
    if (this.#stopReason !== null) {
      return { verdict: "failed", error: `not graded: the judge was stopped (${this.#stopReason})`, attempts: 0 };
    }
    let result: JudgeResult;
    try {
      result = await this.inner.grade(item);
    } catch (error) {
      if (!(error instanceof JudgeRefusedError)) throw error;
      this.#stopReason = error.message;
      return { verdict: "failed", error: error.message, attempts: 1 };
    }
    if (result.skippedEmpty) return result; // no call made: says nothing about the judge
    if (result.verdict !== "failed") {
      this.#consecutiveFailures = 0;
      return result;
    }
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures >= this.consecutiveFailureLimit) {
      this.#stopReason = `${this.#consecutiveFailures} questions in a row failed to be graded; the last: ${result.error}`;
    }
    return result;
  }

  /** Throws `JudgeStoppedError` when the session has stopped; runs call it once their records are written. */
  throwIfStopped(): void {
    if (this.#stopReason === null) return;
    throw new JudgeStoppedError(
      `stopped asking the judge: ${this.#stopReason}. The answers so far are recorded, their failed verdicts left ` +
        `out of the accuracies; once the judge works, ${this.resumeHint}.`,
    );
  }
}
