import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  type CptConfig,
  type CptRecord,
  cptRecordKey,
  defaultCptConfig,
  runCpt,
} from "../../../src/domains/knowledge/cpt.js";
import { buildPooledTrainSequences } from "../../../src/domains/knowledge/sequences.js";
import { createTinyModel, parseJsonl } from "../../cli/cli-fixtures.js";

const { root, model } = createTinyModel("seal-cpt-");
after(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = { write: () => {} };

const RECORDS = [
  {
    title: "Atlantis",
    context: "The capital of Atlantis is Poseidonia. It sank in 9600 BC.",
    questions: [
      { question: "What is the capital?", answer: "Poseidonia" },
      { question: "When did it sink?", answer: "9600 BC" },
    ],
    completions: ["1. Poseidonia is the capital.\n2. Atlantis sank.", "Atlantis --- sank", "unused"],
    prompt: "p",
  },
  {
    title: "Lemuria",
    context: "Lemuria lay in the Indian Ocean.",
    questions: [{ question: "Where was Lemuria?", answer: "Indian Ocean" }],
    completions: ["", "Lemuria was in the Indian Ocean.", "It is a lost land."],
    prompt: "p",
  },
];
const selfEdits = path.join(root, "self-edits.json");
fs.writeFileSync(selfEdits, JSON.stringify(RECORDS));

function tinyConfig(overrides: Partial<CptConfig> = {}): CptConfig {
  const base = defaultCptConfig();
  return defaultCptConfig({
    passages: 2,
    k: 2,
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] },
    train: { ...base.train, epochs: 1, batchSize: 2, gradientAccumulation: 1 },
    maxAnswerTokens: 3,
    ...overrides,
  });
}

function readRecords(out: string): CptRecord[] {
  return parseJsonl<{ key: string; record: CptRecord }>(fs.readFileSync(path.join(out, "records.jsonl"), "utf8")).map(
    (line) => line.record,
  );
}

describe("knowledge cpt", () => {
  it("has the reference's CPT defaults", () => {
    const config = defaultCptConfig();
    assert.equal(config.passages, 200);
    assert.equal(config.k, 5);
    assert.equal(config.train.epochs, 3);
    assert.equal(config.train.batchSize, 4);
    assert.equal(config.train.gradientAccumulation, 2);
    assert.equal(config.splitNewlines, false);
    assert.equal(config.lora.rank, 32);
  });

  const out = path.join(root, "run");
  let first: Awaited<ReturnType<typeof runCpt>>;

  it("trains one adapter on the pooled sequences and reports micro accuracy from its records", async () => {
    first = await runCpt({
      modelDir: model,
      selfEditsPath: selfEdits,
      outDir: out,
      resume: false,
      config: tinyConfig(),
      progressStream: quiet,
    });
    const expected = buildPooledTrainSequences(RECORDS, { completionsPerArticle: 2, splitNewlines: false });
    // Atlantis: 1 + 1 and 2 + 1 sequences; Lemuria: the blank self-edit is skipped, 2 × (1 + 1).
    assert.equal(expected.length, 9);
    assert.equal(first.sequences, 9);
    assert.equal(first.training.sequences, 9);
    // 9 sequences, batch 2, 1 epoch → 5 optimizer steps.
    assert.equal(first.training.steps, 5);
    assert.ok(fs.existsSync(path.join(out, "adapter", "adapter_model.safetensors")));
    assert.ok(fs.existsSync(path.join(out, "adapter", "adapter_config.json")));
    assert.ok(fs.readFileSync(path.join(out, "loss.svg"), "utf8").includes("<polyline"));

    const records = readRecords(out);
    assert.deepEqual(records.map((r) => r.key).sort(), [
      cptRecordKey("adapted", 0),
      cptRecordKey("adapted", 1),
      cptRecordKey("baseline", 0),
      cptRecordKey("baseline", 1),
    ]);
    const micro = (phase: string) => {
      const qs = records.filter((r) => r.phase === phase).flatMap((r) => r.questions);
      assert.equal(qs.length, 3);
      return qs.filter((q) => q.grade.correct).length / qs.length;
    };
    assert.equal(first.questions, 3);
    assert.equal(first.micro.baseline.mean, micro("baseline"));
    assert.equal(first.micro.adapted.mean, micro("adapted"));
    assert.equal(first.micro.adapted.n, 3);
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    assert.equal(summary.sequences, 9);
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /micro accuracy/);
  });

  it("resumes after the training phase without retraining", async () => {
    const adaptedAnswers = (records: CptRecord[]) =>
      records
        .filter((r) => r.phase === "adapted")
        .sort((a, b) => a.passage - b.passage)
        .map((r) => r.questions.map((q) => q.answer));
    const before = adaptedAnswers(readRecords(out));
    // Drop the adapted records: a resume must load the saved adapter and answer them again identically.
    const file = path.join(out, "records.jsonl");
    const lines = fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes('"baseline/'));
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    const trainingBefore = fs.readFileSync(path.join(out, "training.json"), "utf8");
    const resumed = await runCpt({
      modelDir: model,
      selfEditsPath: selfEdits,
      outDir: out,
      resume: true,
      config: tinyConfig(),
      progressStream: quiet,
    });
    assert.equal(fs.readFileSync(path.join(out, "training.json"), "utf8"), trainingBefore);
    assert.deepEqual(resumed.micro, first.micro);
    assert.deepEqual(adaptedAnswers(readRecords(out)), before);
  });

  it("a diverged training saves no adapter, scores the adapted phase 0, and resumes without retraining", async () => {
    const diverging = tinyConfig({ train: { ...tinyConfig().train, lr: 1e30 } });
    const divergedOut = path.join(root, "diverged");
    const lines: string[] = [];
    const run = () =>
      runCpt({
        modelDir: model,
        selfEditsPath: selfEdits,
        outDir: divergedOut,
        resume: fs.existsSync(divergedOut),
        config: diverging,
        progressStream: quiet,
        log: (line) => lines.push(line),
      });
    const summary = await run();
    assert.equal(summary.training.divergence?.step, 1);
    assert.match(summary.training.divergence?.error ?? "", /^training diverged at step 1 of 5 \(epoch 1\)/);
    assert.ok(!fs.existsSync(path.join(divergedOut, "adapter")), "no adapter of a diverged training is saved");
    assert.ok(lines.some((line) => /training diverged.*the adapted phase is scored 0/.test(line)));
    const adapted = readRecords(divergedOut).filter((r) => r.phase === "adapted");
    assert.equal(adapted.length, 2);
    for (const record of adapted) {
      assert.equal(record.diverged, true);
      assert.equal(record.accuracy, 0);
      assert.ok(record.questions.every((q) => q.answer === "" && q.grade.correct === false));
    }
    assert.equal(summary.micro.adapted.mean, 0);
    assert.match(fs.readFileSync(path.join(divergedOut, "summary.md"), "utf8"), /the training diverged/);

    const trainingBefore = fs.readFileSync(path.join(divergedOut, "training.json"), "utf8");
    lines.length = 0;
    const resumed = await run();
    assert.equal(fs.readFileSync(path.join(divergedOut, "training.json"), "utf8"), trainingBefore);
    assert.ok(!lines.some((line) => /training diverged/.test(line)), "not trained again");
    assert.deepEqual(resumed.micro, summary.micro);
  });
});
