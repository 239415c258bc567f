/**
 * Runs graded by an LLM judge that misbehaves, against a real HTTP judge on 127.0.0.1 (fake-judge.ts): a refusal
 * stops the run at once, a hanging judge is cut short, a reply that is no verdict is a failure, a run with too many
 * failed verdicts ends with an error, and the failed verdicts are graded again on --resume or by regrade.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { defaultContinualConfig, runContinual } from "../../../src/domains/knowledge/continual.js";
import { defaultCptConfig, runCpt } from "../../../src/domains/knowledge/cpt.js";
import { evaluateKnowledge } from "../../../src/domains/knowledge/evaluate.js";
import { defaultEvaluationConfig, type EvaluationConfig } from "../../../src/domains/knowledge/evaluation-config.js";
import type { EvaluationRecord } from "../../../src/domains/knowledge/evaluation-records.js";
import { regradeEvaluationRun } from "../../../src/domains/knowledge/evaluation-regrade.js";
import type { EvaluationSummary } from "../../../src/domains/knowledge/evaluation-summary.js";
import { JudgeFailuresError } from "../../../src/domains/knowledge/judge-failures.js";
import { type JudgeSettings, JudgeStoppedError } from "../../../src/domains/knowledge/judge-session.js";
import { createTinyModel, lostLandsWithSelfEdits, parseJsonl } from "../../cli/cli-fixtures.js";
import { type FakeJudge, startFakeJudge } from "./fake-judge.js";

const { root, model } = createTinyModel("seal-judge-runs-");
let judge: FakeJudge;
before(async () => {
  judge = await startFakeJudge();
});
after(async () => {
  await judge.close();
  fs.rmSync(root, { recursive: true, force: true });
});
const quiet = { write: () => true };

const PASSAGES = lostLandsWithSelfEdits(["Poseidonia is the capital of Atlantis.", "Lemuria was in the Indian Ocean."]);
const input = path.join(root, "self-edits.json");
fs.writeFileSync(input, JSON.stringify(PASSAGES));

/** Fast judge settings: one attempt, no pauses, no stop after consecutive failures (tested on its own). */
const FAST: JudgeSettings = { maxAttempts: 1, initialBackoffMs: 1, consecutiveFailureLimit: 100 };

let runs = 0;
function config(mode: EvaluationConfig["mode"] = "no-update"): EvaluationConfig {
  const base = defaultEvaluationConfig();
  return defaultEvaluationConfig({
    mode,
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] },
    train: { ...base.train, epochs: 1 },
    maxAnswerTokens: 3,
    grader: { kind: "judge", model: "judge-m", baseUrl: judge.url },
  });
}

function evaluate(
  out: string,
  options: { resume?: boolean; settings?: JudgeSettings; mode?: EvaluationConfig["mode"] } = {},
) {
  return evaluateKnowledge({
    modelDir: model,
    inputPath: input,
    outDir: out,
    resume: options.resume === true,
    config: config(options.mode),
    judgeSettings: { ...FAST, ...options.settings },
    progressStream: quiet,
  });
}

function records(out: string): EvaluationRecord[] {
  return parseJsonl<{ record: EvaluationRecord }>(fs.readFileSync(path.join(out, "records.jsonl"), "utf8")).map(
    (line) => line.record,
  );
}

function summaryOf(out: string): EvaluationSummary {
  return JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as EvaluationSummary;
}

const grades = (out: string) =>
  records(out).flatMap((record) => record.questions.flatMap((q) => [q.baselineGrade, q.adaptedGrade]));

describe("judge-graded runs against a misbehaving judge", () => {
  it("a 401 stops the run at the first call, naming the URL, the model and the status", async () => {
    judge.mode = "401";
    const calls = judge.calls;
    const out = path.join(root, `run-${runs++}`);
    await assert.rejects(evaluate(out), (error: Error) => {
      assert.ok(error instanceof JudgeStoppedError, error.message);
      assert.ok(error.message.includes(`HTTP 401 from ${judge.url}/chat/completions (model judge-m)`), error.message);
      assert.match(error.message, /Incorrect API key provided.*check the API key \(OPENAI_API_KEY\)/);
      assert.match(error.message, /--resume/);
      return true;
    });
    assert.equal(judge.calls - calls, 1, "no call after the refusal");
    assert.ok(!fs.existsSync(path.join(out, "run.lock")), "the lock is released");
  });

  it("a 404 (no such model) stops the run the same way", async () => {
    judge.mode = "404";
    const calls = judge.calls;
    await assert.rejects(evaluate(path.join(root, `run-${runs++}`)), /HTTP 404 .*does not exist.*--judge-model/);
    assert.equal(judge.calls - calls, 1);
  });

  it("a run whose judge calls all failed ends with an error giving the count; --resume re-grades them", async () => {
    judge.mode = "500";
    const out = path.join(root, `run-${runs++}`);
    await assert.rejects(evaluate(out, { mode: "passages-only" }), (error: Error) => {
      assert.ok(error instanceof JudgeFailuresError, error.message);
      assert.match(error.message, /^6 of 6 judge verdicts failed \(100\.00%\), more than --max-judge-failures 5%/);
      assert.match(error.message, /last error: .*HTTP 500: server is down/);
      assert.match(error.message, /seal knowledge regrade .*--resume/);
      return true;
    });
    // the answers are kept, the summary is written and counts the failures
    assert.equal(records(out).length, 2);
    assert.ok(grades(out).every((grade) => grade.correct === null && grade.judge?.verdict === "failed"));
    assert.deepEqual(summaryOf(out).judgeVerdicts?.failed, 6);
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /Failed judge calls of 6 verdicts/);

    judge.mode = "yes";
    const calls = judge.calls;
    const messages: string[] = [];
    const summary = await evaluateKnowledge({
      modelDir: model,
      inputPath: input,
      outDir: out,
      resume: true,
      config: config("passages-only"),
      judgeSettings: FAST,
      progressStream: quiet,
      log: (line) => messages.push(line),
    });
    assert.ok(
      messages.some((line) => /re-graded 6 failed judge verdict\(s\): 6 graded now/.test(line)),
      messages.join("\n"),
    );
    assert.ok(judge.calls - calls <= 6 && judge.calls - calls >= 3, "only the failed verdicts are asked again");
    assert.deepEqual(summary.judgeVerdicts, { total: 6, failed: 0 });
    assert.equal(summary.micro.baseline.mean, 1);
    assert.equal(summary.micro.adapted.mean, 1);
    assert.ok(grades(out).every((grade) => grade.correct === true));
    assert.deepEqual(
      records(out).map((record) => [record.baselineAccuracy, record.adaptedAccuracy, record.gain]),
      [
        [1, 1, 0],
        [1, 1, 0],
      ],
    );
    assert.deepEqual(
      fs.readdirSync(out).filter((name) => name.includes(".tmp-")),
      [],
      "no temporary file is left",
    );
  });

  it("a reply that is neither yes nor no is a failed verdict, not an incorrect one", async () => {
    judge.mode = "banana";
    const out = path.join(root, `run-${runs++}`);
    const summary = await evaluate(out, { settings: { maxFailures: { kind: "count", value: 100 } } });
    for (const grade of grades(out)) {
      assert.equal(grade.correct, null);
      assert.equal(grade.judge?.verdict, "failed");
      assert.equal(grade.judge?.reply, "banana");
    }
    assert.deepEqual(summary.failedVerdicts, { baseline: 3, adapted: 3 });
    assert.equal(summary.micro.baseline.n, 0, "no accuracy rests on a non-verdict");
  });

  it("a hanging judge: each call is cut at the time limit, and consecutive failures stop the run", {
    timeout: 30_000,
  }, async () => {
    judge.mode = "hang";
    const calls = judge.calls;
    await assert.rejects(
      evaluate(path.join(root, `run-${runs++}`), { settings: { timeoutMs: 50, consecutiveFailureLimit: 2 } }),
      (error: Error) => {
        assert.ok(error instanceof JudgeStoppedError, error.message);
        assert.match(error.message, /2 questions in a row failed to be graded; the last: .*timed out after 50 ms/);
        return true;
      },
    );
    assert.equal(judge.calls - calls, 2);
  });

  it("--max-judge-failures as a count: a run at the limit succeeds, one over it fails", async () => {
    judge.mode = "500";
    const atLimit = await evaluate(path.join(root, `run-${runs++}`), {
      settings: { maxFailures: { kind: "count", value: 6 } },
    });
    assert.deepEqual(atLimit.judgeVerdicts?.failed, 6);
    await assert.rejects(
      evaluate(path.join(root, `run-${runs++}`), { settings: { maxFailures: { kind: "count", value: 5 } } }),
      /6 of 6 judge verdicts failed .*more than --max-judge-failures 5 allows/,
    );
  });

  it("regrade: re-grades the failed verdicts of a finished run and rewrites its records and summary", async () => {
    judge.mode = "500";
    const out = path.join(root, `run-${runs++}`);
    await evaluate(out, { mode: "passages-only", settings: { maxFailures: { kind: "fraction", value: 1 } } });
    assert.equal(summaryOf(out).judgeVerdicts?.failed, 6);

    // still down: the failures are counted again and the error says how to finish
    await assert.rejects(regradeEvaluationRun({ runDir: out, judgeSettings: FAST }), (error: Error) => {
      assert.ok(error instanceof JudgeFailuresError, error.message);
      assert.match(error.message, /6 of 6 judge verdicts failed/);
      return true;
    });
    assert.ok(!fs.existsSync(path.join(out, "run.lock")));

    judge.mode = "no";
    const { summary, outcome } = await regradeEvaluationRun({ runDir: out, judgeSettings: FAST });
    assert.equal(outcome.failed, 6);
    assert.equal(outcome.graded, 6);
    assert.deepEqual(summary.judgeVerdicts, { total: 6, failed: 0 });
    assert.equal(summaryOf(out).micro.baseline.mean, 0);
    assert.ok(grades(out).every((grade) => grade.correct === false && grade.judge?.reply === "No."));
    assert.doesNotMatch(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /baseline 3, adapted 3/);

    const calls = judge.calls;
    const again = await regradeEvaluationRun({ runDir: out, judgeSettings: FAST });
    assert.equal(again.outcome.failed, 0);
    assert.equal(judge.calls, calls, "nothing left to ask");
  });

  it("regrade refuses what it cannot regrade, naming why", async () => {
    await assert.rejects(regradeEvaluationRun({ runDir: root }), /not a run folder/);
    const local = path.join(root, `run-${runs++}`);
    await evaluateKnowledge({
      modelDir: model,
      inputPath: input,
      outDir: local,
      resume: false,
      config: defaultEvaluationConfig({ mode: "no-update", maxAnswerTokens: 2 }),
      progressStream: quiet,
    });
    await assert.rejects(regradeEvaluationRun({ runDir: local }), /graded locally .*no judge verdicts to regrade/);
  });

  it("cpt and continual: failed verdicts end the run with the count, and --resume re-grades them", async () => {
    const cptOut = path.join(root, "cpt");
    const base = defaultCptConfig();
    const cpt = (resume: boolean) =>
      runCpt({
        modelDir: model,
        selfEditsPath: input,
        outDir: cptOut,
        resume,
        config: defaultCptConfig({
          passages: 2,
          k: 1,
          lora: { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] },
          train: { ...base.train, epochs: 1, batchSize: 2, gradientAccumulation: 1 },
          maxAnswerTokens: 3,
          grader: { kind: "judge", model: "judge-m", baseUrl: judge.url },
        }),
        judgeSettings: FAST,
        progressStream: quiet,
      });
    judge.mode = "500";
    await assert.rejects(cpt(false), /6 of 6 judge verdicts failed \(100\.00%\)/);
    judge.mode = "yes";
    const summary = await cpt(true);
    assert.deepEqual(summary.judgeVerdicts, { total: 6, failed: 0 });
    assert.equal(summary.micro.adapted.mean, 1);

    const continualOut = path.join(root, "continual");
    const continual = (resume: boolean) =>
      runContinual({
        modelDir: model,
        dataPath: input,
        outDir: continualOut,
        resume,
        config: defaultContinualConfig({
          runs: 1,
          sequenceLength: 1,
          lora: { rank: 2, alpha: 4, dropout: 0, targets: ["q_proj", "v_proj"] },
          train: { ...defaultContinualConfig().train, epochs: 1 },
          maxTokens: 4,
          maxAnswerTokens: 3,
          grader: { kind: "judge", model: "judge-m", baseUrl: judge.url },
        }),
        judgeSettings: FAST,
        progressStream: quiet,
      });
    judge.mode = "500";
    await assert.rejects(continual(false), /judge verdicts failed \(100\.00%\)/);
    judge.mode = "yes";
    const matrix = await continual(true);
    assert.equal(matrix.judgeVerdicts?.failed, 0);
    assert.ok((matrix.judgeVerdicts?.total ?? 0) > 0);
  });
});
