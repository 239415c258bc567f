import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createTinyModel, lostLandsWithSelfEdits, parseJsonl, sealResult } from "./cli-fixtures.js";
import { assertSameRun, killAndResume, runKilledAt } from "./kill-resume.js";

const { root, model } = createTinyModel("seal-cli-evaluate-");
after(() => fs.rmSync(root, { recursive: true, force: true }));

const input = path.join(root, "self-edits.json");
fs.writeFileSync(
  input,
  JSON.stringify([
    ...lostLandsWithSelfEdits([
      "1. Poseidonia is the capital.\n2. Atlantis sank in 9600 BC.",
      "Lemuria was in the Indian Ocean.\nIt is a lost land.",
    ]),
    {
      title: "Mu",
      context: "Mu was a continent in the Pacific.",
      questions: [{ question: "Where was Mu?", answer: "Pacific" }],
      completions: ["Mu lay in the Pacific Ocean."],
      prompt: "p",
    },
  ]),
);

const TINY = ["--epochs", "3", "--rank", "4", "--alpha", "8", "--max-answer-tokens", "3"];
const evaluateArgs = (out: string, extra: string[] = []) => [
  "knowledge",
  "evaluate",
  "--model",
  model,
  "--self-edits",
  input,
  "--out",
  out,
  ...TINY,
  // one inner loop at a time: a resumed run regroups the inner loops it still lacks, and a group changes float
  // rounding (test/domains/knowledge/evaluate.test.ts compares K > 1 with K = 1)
  "--parallel-adapters",
  "1",
  ...extra,
];

interface Summary {
  timing: unknown;
  [key: string]: unknown;
}

function summaryOf(out: string): Summary {
  const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as Summary;
  const { timing: _timing, ...rest } = summary;
  return rest as Summary;
}

function recordCount(out: string): number {
  const file = path.join(out, "records.jsonl");
  if (!fs.existsSync(file)) return 0;
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.endsWith("}")).length;
}

const fullRun = path.join(root, "full");

describe("seal knowledge evaluate", () => {
  it("--help lists the options", () => {
    const result = sealResult(["knowledge", "evaluate", "--help"]);
    assert.equal(result.status, 0, result.stderr);
    for (const flag of ["--self-edits", "--passages-only", "--no-update", "--repeats", "--grader", "--resume"]) {
      assert.ok(result.stdout.includes(flag), flag);
    }
  });

  it("writes run.json, one record per inner loop and the summary; prints the headline", () => {
    const result = sealResult(evaluateArgs(fullRun));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /grader: local .*contains-gold/);
    assert.match(result.stdout, /macro over 3 passages: baseline/);
    assert.match(result.stdout, /micro over 4 questions: baseline/);
    for (const file of ["run.json", "records.jsonl", "summary.md", "summary.json"]) {
      assert.ok(fs.existsSync(path.join(fullRun, file)), file);
    }
    assert.ok(!fs.existsSync(path.join(fullRun, "run.lock")), "the lock is released");
    const lines = parseJsonl<{ key: string }>(fs.readFileSync(path.join(fullRun, "records.jsonl"), "utf8"));
    assert.deepEqual(
      lines.map((line) => line.key),
      ["passage-0/edit-0/repeat-0", "passage-1/edit-0/repeat-0", "passage-2/edit-0/repeat-0"],
    );
    const run = JSON.parse(fs.readFileSync(path.join(fullRun, "run.json"), "utf8"));
    assert.equal(run.command, "knowledge evaluate");
    assert.equal(run.config.lora.rank, 4);
    assert.equal(run.config.grader.kind, "local");
    assert.ok(run.fingerprints.model.sha256 && run.fingerprints.data.sha256);
    const summary = JSON.parse(fs.readFileSync(path.join(fullRun, "summary.json"), "utf8"));
    assert.equal(summary.grader.kind, "local");
    assert.equal(summary.complete, true);
    assert.match(fs.readFileSync(path.join(fullRun, "summary.md"), "utf8"), /macro over passages \(the paper's\)/);
  });

  it("a run killed mid-way and resumed ends with the uninterrupted run's summary", () => {
    const out = path.join(root, "killed");
    // kill -9 as soon as the first inner loop is recorded
    runKilledAt(evaluateArgs(out), "record:passage-0/edit-0/repeat-0");
    const before = recordCount(out);
    assert.equal(before, 1, `killed after ${before} of 3 inner loops`);
    assert.ok(fs.existsSync(path.join(out, "run.lock")), "the killed process left its lock");
    assert.ok(!fs.existsSync(path.join(out, "summary.json")));

    const refused = sealResult(evaluateArgs(out));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /not empty.*--resume/);

    // killed again in the middle of the next inner loop's training, and while writing the summary
    const resumed = killAndResume(out, {
      args: (dir) => evaluateArgs(dir, ["--resume"]),
      resumeArgs: (dir) => evaluateArgs(dir, ["--resume"]),
      crashes: ["train-step:inner@2", "write:summary.json"],
    });
    assert.match(resumed.stderr, /resuming .*: 3 of 3 inner loops done/);
    assert.equal(recordCount(out), 3);
    assert.deepEqual(summaryOf(out), summaryOf(fullRun));
    assertSameRun(out, fullRun);
  });

  it("resuming with different settings fails naming the fields", () => {
    const result = sealResult(evaluateArgs(fullRun, ["--resume", "--rank", "8", "--lr", "0.01"]));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /cannot resume, 2 field\(s\) differ/);
    assert.match(result.stderr, /config\.lora\.rank: run has 4, now 8/);
    assert.match(result.stderr, /config\.train\.lr: run has 0\.001, now 0\.01/);
  });

  it("inner loops that diverge (--lr 1e30) are recorded with reward 0, counted; the run and --resume exit 0", () => {
    const out = path.join(root, "diverged");
    const result = sealResult(evaluateArgs(out, ["--lr", "1e30", "--limit", "2"]));
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stderr,
      /^passage-0\/edit-0\/repeat-0: training diverged at step 1 of \d+ .*recorded as diverged/m,
    );
    assert.match(result.stdout, /^diverged inner loops: 2 of 2 \(scored 0; lower --lr or --alpha\)$/m);
    const lines = parseJsonl<{ record: { divergence?: { step: number }; adaptedAccuracy: number } }>(
      fs.readFileSync(path.join(out, "records.jsonl"), "utf8"),
    );
    assert.deepEqual(
      lines.map((line) => [line.record.divergence?.step, line.record.adaptedAccuracy]),
      [
        [1, 0],
        [1, 0],
      ],
    );
    const resumed = sealResult(evaluateArgs(out, ["--lr", "1e30", "--limit", "2", "--resume"]));
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming .*: 2 of 2 inner loops done/);
    assert.doesNotMatch(resumed.stderr, /training diverged/, "the diverged units are not retried");
    assert.equal(recordCount(out), 2);
  });

  it("malformed input and conflicting options fail clearly", () => {
    const broken = path.join(root, "broken.json");
    fs.writeFileSync(broken, JSON.stringify([{ title: "a", context: "b", questions: [{ question: "q" }] }]));
    const result = sealResult([
      "knowledge",
      "evaluate",
      "--model",
      model,
      "--self-edits",
      broken,
      "--out",
      path.join(root, "broken-run"),
      "--passages-only",
    ]);
    assert.equal(result.status, 1);
    assert.ok(result.stderr.includes(`seal: ${broken}: record 0:`), result.stderr);
    assert.match(result.stderr, /questions\.0\.answer/);
    assert.ok(!fs.existsSync(path.join(root, "broken-run")), "nothing is written for bad input");

    const both = sealResult(evaluateArgs(path.join(root, "both"), ["--passages-only", "--no-update"]));
    assert.equal(both.status, 1);
    assert.match(both.stderr, /at most one of --passages-only and --no-update/);
  });
});
