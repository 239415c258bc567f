import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { type AnswerGrade, gradeAnswers } from "../../../src/domains/knowledge/answer-grading.js";
import { evaluateKnowledge } from "../../../src/domains/knowledge/evaluate.js";
import { defaultEvaluationConfig, type EvaluationConfig } from "../../../src/domains/knowledge/evaluation-config.js";
import { readEvaluationPassages } from "../../../src/domains/knowledge/evaluation-passages.js";
import { type EvaluationRecord, innerLoopSeed, recordKey } from "../../../src/domains/knowledge/evaluation-records.js";
import { type EvaluationSummary, summarizeEvaluation } from "../../../src/domains/knowledge/evaluation-summary.js";
import type { JudgeItem, JudgeResult } from "../../../src/domains/knowledge/judge.js";
import { renderEvaluationMarkdown } from "../../../src/domains/knowledge/report.js";
import { studentTQuantile } from "../../../src/seal/stats.js";
import { createTinyModel, parseJsonl } from "../../cli/cli-fixtures.js";

const { root, model } = createTinyModel("seal-evaluate-");
after(() => fs.rmSync(root, { recursive: true, force: true }));

const PASSAGES = [
  {
    title: "Atlantis",
    context: "  The capital of Atlantis is Poseidonia. It sank in 9600 BC.\n",
    questions: [
      { question: "What is the capital?", answer: "Poseidonia" },
      { question: "When did it sink?", answer: "9600 BC" },
    ],
    completions: ["1. Poseidonia is the capital.\n2. Atlantis sank.", ""],
    prompt: "p",
  },
  {
    title: "Lemuria",
    context: "Lemuria lay in the Indian Ocean.",
    questions: [{ question: "Where was Lemuria?", answer: "Indian Ocean" }],
    completions: ["Lemuria was in the Indian Ocean.", "It is a lost land."],
    prompt: "p",
  },
];

function writeJson(name: string, value: unknown): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

const selfEditFile = writeJson("self-edits.json", PASSAGES);

/** Tiny but real settings: 2 epochs of a rank-4 adapter, 3-token answers. */
function tinyConfig(overrides: Partial<EvaluationConfig> = {}): EvaluationConfig {
  const base = defaultEvaluationConfig();
  return defaultEvaluationConfig({
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] },
    train: { ...base.train, epochs: 2 },
    maxAnswerTokens: 3,
    ...overrides,
  });
}

let runCount = 0;
function evaluate(
  config: EvaluationConfig,
  options: { out?: string; resume?: boolean; input?: string; parallelAdapters?: number } = {},
) {
  const out = options.out ?? path.join(root, `run-${runCount++}`);
  const progress: string[] = [];
  return evaluateKnowledge({
    modelDir: model,
    inputPath: options.input ?? selfEditFile,
    outDir: out,
    resume: options.resume === true,
    config,
    ...(options.parallelAdapters === undefined ? {} : { parallelAdapters: options.parallelAdapters }),
    progressStream: { write: (text: string) => progress.push(text) },
  }).then((summary) => ({ summary, out, records: readRecords(out), progress }));
}

function readRecords(out: string): EvaluationRecord[] {
  return parseJsonl<{ key: string; record: EvaluationRecord }>(
    fs.readFileSync(path.join(out, "records.jsonl"), "utf8"),
  ).map((line) => line.record);
}

/** The summary without wall-clock figures (which differ between runs). */
function withoutTiming(summary: EvaluationSummary): unknown {
  const { timing: _timing, ...rest } = summary;
  return rest;
}

function grade(correct: boolean | null, extra: Partial<AnswerGrade> = {}): AnswerGrade {
  return {
    correct,
    exactMatch: correct ? 1 : 0,
    f1: correct ? 1 : 0,
    contains: correct === true,
    empty: false,
    ...extra,
  };
}

function fakeRecord(
  passage: number,
  edit: number,
  repeat: number,
  baseline: (boolean | null)[],
  adapted: (boolean | null)[],
): EvaluationRecord {
  const accuracy = (verdicts: (boolean | null)[]) => {
    const graded = verdicts.filter((v) => v !== null);
    return graded.length === 0 ? null : graded.filter((v) => v).length / graded.length;
  };
  return {
    key: recordKey(passage, edit, repeat),
    passage,
    edit,
    repeat,
    title: `t${passage}`,
    seed: 0,
    update: true,
    passageOnly: false,
    selfEdit: "x",
    sequences: [],
    sequenceTokens: [],
    questions: baseline.map((b, q) => ({
      question: `q${q}`,
      gold: "g",
      baselineAnswer: "a",
      baselineGrade: grade(b),
      adaptedAnswer: "a",
      adaptedGrade: grade(adapted[q]),
    })),
    baselineAccuracy: accuracy(baseline),
    adaptedAccuracy: accuracy(adapted),
    gain: null,
    training: null,
    timings: { baselineSeconds: 0, trainSeconds: 0, answerSeconds: 0, gradeSeconds: 0, totalSeconds: 0 },
  };
}

describe("knowledge evaluate: aggregation", () => {
  it("macro over passages and micro over questions match a hand computation, failed verdicts left out", () => {
    const passages = [
      {
        index: 3,
        title: "t3",
        questions: [
          { question: "q0", answer: "g" },
          { question: "q1", answer: "g" },
        ],
      },
      {
        index: 4,
        title: "t4",
        questions: [
          { question: "q0", answer: "g" },
          { question: "q1", answer: "g" },
          { question: "q2", answer: "g" },
          { question: "q3", answer: "g" },
        ],
      },
    ];
    const records = [
      // passage 3: baseline 1/2; edit 0 repeats: 1/2, 2/2 → 0.75; edit 1 repeats: 0/2, 1/2 → 0.25; adapted 0.5
      fakeRecord(3, 0, 0, [true, false], [true, false]),
      fakeRecord(3, 0, 1, [true, false], [true, true]),
      fakeRecord(3, 1, 0, [true, false], [false, false]),
      fakeRecord(3, 1, 1, [true, false], [false, true]),
      // passage 4: baseline q3 failed → 1/3; adapted per record (q0 failed in the first) 2/3, 3/4 …
      fakeRecord(4, 0, 0, [false, true, false, null], [null, true, true, false]),
      fakeRecord(4, 0, 1, [false, true, false, null], [true, true, true, false]),
      fakeRecord(4, 1, 0, [false, true, false, null], [false, false, true, true]),
      fakeRecord(4, 1, 1, [false, true, false, null], [false, false, false, false]),
      // a record of a passage outside the selection is ignored
      fakeRecord(9, 0, 0, [true], [true]),
    ];
    const config = defaultEvaluationConfig({
      completions: 2,
      repeats: 2,
      grader: { kind: "judge", model: "m", baseUrl: "u" },
    });
    const summary = summarizeEvaluation(passages, records, config);

    const p3 = { baseline: 0.5, adapted: (0.75 + 0.25) / 2 };
    const p4 = { baseline: 1 / 3, adapted: ((2 / 3 + 3 / 4) / 2 + (2 / 4 + 0) / 2) / 2 };
    const close = (actual: number | null, expected: number, what: string) =>
      assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);
    close(summary.perPassage[0].adapted, p3.adapted, "p3 adapted");
    close(summary.perPassage[1].baseline, p4.baseline, "p4 baseline");
    close(summary.perPassage[1].adapted, p4.adapted, "p4 adapted");
    close(summary.macro.baseline.mean, (p3.baseline + p4.baseline) / 2, "macro baseline");
    close(summary.macro.adapted.mean, (p3.adapted + p4.adapted) / 2, "macro adapted");
    close(summary.macro.gain.mean, (p3.adapted - p3.baseline + p4.adapted - p4.baseline) / 2, "macro gain");
    // 95% t interval with n = 2: mean ± t(0.975, 1) · s / √2
    const values = [p3.adapted, p4.adapted];
    const s = Math.abs(values[0] - values[1]) / Math.SQRT2;
    close(summary.macro.adapted.halfWidth, (studentTQuantile(0.975, 1) * s) / Math.SQRT2, "macro adapted CI");
    assert.ok(Math.abs(studentTQuantile(0.975, 1) - 12.7062) < 1e-3);

    // micro: per question, adapted = mean over the records that graded it
    const microBaseline = [1, 0, 0, 1, 0]; // p4 q3's baseline failed
    const microAdapted = [
      (1 + 1 + 0 + 0) / 4,
      (0 + 1 + 0 + 1) / 4,
      (1 + 0 + 0) / 3, // p4 q0: the first record's verdict failed
      (1 + 1 + 0 + 0) / 4,
      (1 + 1 + 1 + 0) / 4,
      (0 + 0 + 1 + 0) / 4,
    ];
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    close(summary.micro.baseline.mean, avg(microBaseline), "micro baseline");
    assert.equal(summary.micro.baseline.n, 5);
    close(summary.micro.adapted.mean, avg(microAdapted), "micro adapted");
    assert.equal(summary.micro.adapted.n, 6);
    const gains = [microAdapted[0] - 1, microAdapted[1] - 0, microAdapted[2] - 0, microAdapted[3] - 1, microAdapted[4]];
    close(summary.micro.gain.mean, avg(gains), "micro gain");
    assert.deepEqual(summary.failedVerdicts, { baseline: 1, adapted: 1 });
    assert.deepEqual(summary.innerLoops, { expected: 8, done: 8 });
    assert.equal(summary.complete, true);
    assert.match(renderEvaluationMarkdown(summary), /judge m at u/);
  });

  it("an unfinished run is summarized as incomplete; one passage has no interval", () => {
    const passages = [
      { index: 0, title: "a", questions: [{ question: "q", answer: "g" }] },
      { index: 1, title: "b", questions: [{ question: "q", answer: "g" }] },
    ];
    const summary = summarizeEvaluation(passages, [fakeRecord(0, 0, 0, [false], [true])], defaultEvaluationConfig());
    assert.equal(summary.complete, false);
    assert.deepEqual(summary.innerLoops, { expected: 2, done: 1 });
    assert.deepEqual(summary.macro.gain, { mean: 1, lower: null, upper: null, halfWidth: null, n: 1 });
    assert.equal(summary.perPassage[1].adapted, null);
    assert.match(renderEvaluationMarkdown(summary), /incomplete/);
  });
});

describe("knowledge evaluate: input and grading", () => {
  it("malformed files are rejected naming the file and the record", () => {
    const broken = writeJson("broken.json", [PASSAGES[0], { ...PASSAGES[1], context: 5 }]);
    assert.throws(
      () => readEvaluationPassages(broken, defaultEvaluationConfig()),
      (error: Error) => {
        assert.ok(error.message.includes(broken), error.message);
        assert.match(error.message, /record 1/);
        assert.match(error.message, /context/);
        return true;
      },
    );
    assert.throws(
      () => readEvaluationPassages(selfEditFile, defaultEvaluationConfig({ completions: 3 })),
      /self-edits\.json: record 0: field "completions": has 2 self-edit\(s\), --completions asks for 3/,
    );
    const noQuestions = writeJson("no-questions.json", [{ ...PASSAGES[0], questions: [] }]);
    assert.throws(() => readEvaluationPassages(noQuestions, defaultEvaluationConfig()), /record 0: .*no questions/);
    const plain = writeJson("plain.json", [{ title: "a", context: "b", questions: [{ question: "q", answer: "g" }] }]);
    assert.throws(
      () => readEvaluationPassages(plain, defaultEvaluationConfig()),
      /plain\.json: record 0: .*completions/,
    );
    assert.equal(readEvaluationPassages(plain, defaultEvaluationConfig({ mode: "passages-only" })).length, 1);
    assert.throws(
      () => readEvaluationPassages(selfEditFile, defaultEvaluationConfig({ start: 2 })),
      /--start 2 is past/,
    );
  });

  it("selects records by --start/--limit and keeps their file index", () => {
    const passages = readEvaluationPassages(selfEditFile, defaultEvaluationConfig({ start: 1, completions: 2 }));
    assert.deepEqual(
      passages.map((p) => [p.index, p.selfEdits]),
      [[1, PASSAGES[1].completions]],
    );
  });

  it("judge grading: failed calls become null verdicts, the local metrics are kept", async () => {
    const asked: JudgeItem[] = [];
    const judge = {
      grade: async (item: JudgeItem): Promise<JudgeResult> => {
        asked.push(item);
        if (item.prediction === "boom") return { verdict: "failed", error: "down", attempts: 4 };
        return { verdict: item.prediction.includes("Poseidonia") ? "correct" : "incorrect", reply: "x", attempts: 1 };
      },
    };
    const grades = await gradeAnswers(PASSAGES[0], ["Poseidonia, of course", "boom"], judge);
    assert.equal(grades[0].correct, true);
    assert.equal(grades[0].contains, true);
    assert.equal(grades[1].correct, null);
    assert.deepEqual(grades[1].judge, { verdict: "failed", error: "down", attempts: 4 });
    assert.equal(asked[0].question, "Topic: Atlantis\nWhat is the capital?");
    const local = await gradeAnswers(PASSAGES[0], ["the Poseidonia.", "9600"], null);
    assert.deepEqual(
      local.map((g) => [g.correct, g.exactMatch]),
      [
        [true, 1],
        [false, 0],
      ],
    );
  });

  it("inner-loop seeds derive from the run seed and the key", () => {
    assert.equal(innerLoopSeed(0, "passage-0/edit-0/repeat-0"), innerLoopSeed(0, "passage-0/edit-0/repeat-0"));
    assert.notEqual(innerLoopSeed(0, "passage-0/edit-0/repeat-0"), innerLoopSeed(0, "passage-0/edit-0/repeat-1"));
    assert.notEqual(innerLoopSeed(0, "passage-0/edit-0/repeat-0"), innerLoopSeed(1, "passage-0/edit-0/repeat-0"));
  });
});

describe("knowledge evaluate: runs on a tiny model", () => {
  it("writes one record per inner loop and a summary consistent with them", async () => {
    const { summary, out, records, progress } = await evaluate(tinyConfig({ completions: 2 }));
    assert.deepEqual(
      records.map((r) => r.key),
      [
        "passage-0/edit-0/repeat-0",
        "passage-0/edit-1/repeat-0",
        "passage-1/edit-0/repeat-0",
        "passage-1/edit-1/repeat-0",
      ],
    );
    const first = records[0];
    assert.deepEqual(first.sequences, [
      "Atlantis\n1. Poseidonia is the capital.",
      "Atlantis\n2. Atlantis sank.",
      "Atlantis\nThe capital of Atlantis is Poseidonia. It sank in 9600 BC.",
    ]);
    assert.equal(first.sequenceTokens.length, 3);
    assert.ok(first.training !== null && first.training.steps === 6 && first.training.trainTokens > 0);
    assert.equal(first.passageOnly, false);
    // the empty second self-edit is scored as passage-only training
    assert.equal(records[1].passageOnly, true);
    assert.deepEqual(records[1].sequences, ["Atlantis\nThe capital of Atlantis is Poseidonia. It sank in 9600 BC."]);
    assert.equal(summary.passageOnlyInnerLoops, 1);
    // the baseline is the same in every record of a passage
    assert.deepEqual(
      records[0].questions.map((q) => q.baselineAnswer),
      records[1].questions.map((q) => q.baselineAnswer),
    );
    assert.notEqual(records[0].seed, records[1].seed);
    assert.deepEqual(
      JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")),
      JSON.parse(JSON.stringify(summary)),
    );
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /contains-gold/);
    assert.equal(summary.complete, true);
    assert.deepEqual(summary.innerLoops, { expected: 4, done: 4 });
    // plots: a gain histogram (one bar per bin) and the per-epoch loss curve, listed in the summary and linked
    assert.deepEqual(summary.plots, ["gains.svg", "loss.svg"]);
    const gains = fs.readFileSync(path.join(out, "gains.svg"), "utf8");
    assert.ok(gains.startsWith("<svg"));
    assert.equal(gains.match(/class="bar"/g)?.length, 20);
    const loss = fs.readFileSync(path.join(out, "loss.svg"), "utf8");
    assert.ok(loss.startsWith("<svg"));
    assert.equal(loss.match(/class="series"/g)?.length, 1);
    const epochs = summary.training?.meanEpochLosses.length ?? 0;
    assert.ok(epochs >= 1);
    assert.equal(loss.match(/points="([^"]*)"/)?.[1].split(" ").length, epochs);
    const markdown = fs.readFileSync(path.join(out, "summary.md"), "utf8");
    assert.match(markdown, /\]\(gains\.svg\)/);
    assert.match(markdown, /\]\(loss\.svg\)/);
    assert.ok(progress.some((line) => line.includes('"event":"finish"')));
    // recomputing from the records by hand gives the summary's numbers
    const passageAdapted = [0, 1].map((p) => {
      const own = records.filter((r) => r.passage === p);
      return own.reduce((s, r) => s + (r.adaptedAccuracy ?? 0), 0) / own.length;
    });
    assert.ok(Math.abs((summary.macro.adapted.mean ?? -1) - (passageAdapted[0] + passageAdapted[1]) / 2) < 1e-12);
  });

  it("--passages-only trains on exactly [title\\npassage]; --no-update trains nothing", async () => {
    const naive = await evaluate(tinyConfig({ mode: "passages-only", repeats: 2 }));
    assert.equal(naive.records.length, 4);
    for (const record of naive.records) {
      const passage = PASSAGES[record.passage];
      assert.deepEqual(record.sequences, [`${passage.title}\n${passage.context.trim()}`]);
      assert.equal(record.selfEdit, "");
      assert.equal(record.passageOnly, true);
      assert.ok(record.training !== null);
    }
    const none = await evaluate(tinyConfig({ mode: "no-update" }));
    assert.equal(none.records.length, 2);
    for (const record of none.records) {
      assert.equal(record.update, false);
      assert.equal(record.training, null);
      assert.deepEqual(record.sequences, []);
      assert.deepEqual(
        record.questions.map((q) => q.adaptedAnswer),
        record.questions.map((q) => q.baselineAnswer),
      );
    }
    assert.equal(none.summary.macro.gain.mean, 0);
    assert.equal(none.summary.training, null);
    assert.deepEqual(
      none.records.map((r) => r.questions.map((q) => q.baselineAnswer)),
      naive.records.filter((r) => r.repeat === 0).map((r) => r.questions.map((q) => q.baselineAnswer)),
    );
  });

  it("resuming with a larger --limit ends with the summary of an uninterrupted run", async () => {
    // one inner loop at a time: bit-for-bit equality needs the same groups (a group changes float rounding)
    const one = { parallelAdapters: 1 };
    const full = await evaluate(tinyConfig(), one);
    const out = path.join(root, "resumed");
    const partial = await evaluate(tinyConfig({ limit: 1 }), { out, ...one });
    assert.equal(partial.records.length, 1);
    const resumed = await evaluate(tinyConfig(), { out, resume: true, ...one });
    assert.equal(resumed.records.length, 2);
    assert.deepEqual(resumed.records[0], partial.records[0], "the finished record is kept, not recomputed");
    const strip = (records: EvaluationRecord[]) => records.map(({ timings: _t, ...rest }) => rest);
    assert.deepEqual(strip(resumed.records), strip(full.records));
    assert.deepEqual(withoutTiming(resumed.summary), withoutTiming(full.summary));
    // resuming a finished run computes nothing and rewrites the same summary
    const again = await evaluate(tinyConfig(), { out, resume: true, ...one });
    assert.equal(again.records.length, 2);
    assert.deepEqual(withoutTiming(again.summary), withoutTiming(full.summary));
  });

  it("inner loops run together (--parallel-adapters) give the answers of one at a time, losses to float rounding", async () => {
    const config = tinyConfig({ completions: 2, repeats: 2 });
    const alone = await evaluate(config, { parallelAdapters: 1 });
    const together = await evaluate(config, { parallelAdapters: 3 });
    assert.equal(together.records.length, alone.records.length);
    assert.ok(alone.records.length >= 4, "several groups of inner loops");
    together.records.forEach((record, i) => {
      const reference = alone.records[i];
      assert.equal(record.key, reference.key, "records keep their order");
      assert.deepEqual(
        record.questions.map((q) => q.adaptedAnswer),
        reference.questions.map((q) => q.adaptedAnswer),
        record.key,
      );
      const losses = record.training?.stepLosses ?? [];
      assert.equal(losses.length, reference.training?.stepLosses.length);
      losses.forEach((loss, k) => {
        assert.ok(Math.abs(loss - (reference.training?.stepLosses[k] ?? Number.NaN)) < 1e-4, `${record.key} step ${k}`);
      });
    });
  });

  it("an inner loop whose training diverges is recorded as diverged with reward 0; resume keeps it", async () => {
    const base = defaultEvaluationConfig();
    const diverging = (limit: number) => tinyConfig({ train: { ...base.train, epochs: 2, lr: 1e30 }, limit });
    const out = path.join(root, "diverged");
    const partial = await evaluate(diverging(1), { out });
    assert.equal(partial.summary.complete, true);
    assert.equal(partial.records.length, 1, "passage 0's inner loop is finished");
    for (const record of partial.records) {
      assert.equal(record.divergence?.step, 1, record.key);
      assert.equal(record.divergence?.cause, "parameters");
      assert.match(record.divergence?.error ?? "", /^training diverged at step 1 of \d+ \(epoch 1\)/);
      assert.equal(record.training, null, "no losses of a diverged training are summarized");
      assert.equal(record.adaptedAccuracy, 0, "zero reward");
      assert.equal(record.gain, 0 - (record.baselineAccuracy as number));
      for (const q of record.questions) {
        assert.equal(q.adaptedAnswer, "", "no adapter answered");
        assert.equal(q.adaptedGrade.correct, false);
      }
      assert.equal(record.questions[0].baselineAnswer, partial.records[0].questions[0].baselineAnswer);
    }
    assert.equal(partial.summary.divergedInnerLoops, 1);
    assert.equal(partial.summary.training, null);
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /Diverged inner loops\*\* .*: 1 /);

    // --resume (here growing the range) keeps the diverged records as finished: they are not trained again
    const resumed = await evaluate(diverging(2), { out, resume: true });
    assert.equal(resumed.records.length, 2);
    assert.deepEqual(resumed.records[0], partial.records[0]);
    assert.equal(resumed.records[1].divergence?.step, 1);
    assert.equal(resumed.summary.divergedInnerLoops, 2);
    assert.deepEqual(resumed.summary.innerLoops, { expected: 2, done: 2 });
    const again = await evaluate(diverging(2), { out, resume: true });
    assert.deepEqual(again.records, resumed.records, "a finished run computes nothing");
  });

  it("resuming with different settings is refused, naming the fields", async () => {
    const out = path.join(root, "mismatch");
    await evaluate(tinyConfig({ mode: "no-update" }), { out });
    await assert.rejects(
      evaluate(tinyConfig({ mode: "no-update", seed: 5, maxAnswerTokens: 2 }), { out, resume: true }),
      (error: Error) => {
        assert.match(error.message, /cannot resume/);
        assert.match(error.message, /config\.seed: run has 0, now 5/);
        assert.match(error.message, /config\.maxAnswerTokens/);
        return true;
      },
    );
    await assert.rejects(evaluate(tinyConfig({ mode: "no-update" }), { out }), /not empty.*--resume/);
  });

  it("judge grading: failed calls are recorded as failed and counted, not scored", async () => {
    let calls = 0;
    const judge = {
      grade: async (): Promise<JudgeResult> => {
        calls++;
        return calls === 1
          ? { verdict: "failed", error: "HTTP 503", attempts: 4 }
          : { verdict: "correct", attempts: 1 };
      },
    };
    const out = path.join(root, "judged");
    const summary = await evaluateKnowledge({
      modelDir: model,
      inputPath: selfEditFile,
      outDir: out,
      resume: false,
      config: tinyConfig({ mode: "no-update", grader: { kind: "judge", model: "m", baseUrl: "http://127.0.0.1:9" } }),
      judge,
      judgeSettings: { maxFailures: { kind: "count", value: 2 } },
      progressStream: { write: () => true },
    });
    assert.equal(calls, 3, "the baseline is graded once per question; no-update grades nothing more");
    const records = readRecords(out);
    assert.equal(records[0].questions[0].baselineGrade.correct, null);
    assert.equal(records[0].questions[0].baselineGrade.judge?.error, "HTTP 503");
    assert.equal(records[0].baselineAccuracy, 1);
    assert.deepEqual(summary.failedVerdicts, { baseline: 1, adapted: 1 });
    assert.deepEqual(summary.judgeVerdicts, { total: 6, failed: 2, lastError: "HTTP 503" });
    assert.equal(summary.micro.baseline.n, 2);
    assert.equal(summary.micro.baseline.mean, 1);
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /Failed judge calls .*baseline 1, adapted 1/);
  });

  it("option combinations that make no sense are refused before any work", async () => {
    await assert.rejects(evaluate(tinyConfig({ mode: "no-update", repeats: 2 })), /--repeats .*--no-update/);
    await assert.rejects(evaluate(tinyConfig({ mode: "passages-only", completions: 2 })), /--completions applies/);
  });
});
