import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  type KnowledgeTrainOptions,
  registerKnowledgeTrain,
  runKnowledgeTrain,
} from "../../src/cli/commands/knowledge-train.js";
import { readSelfEditFile, readSftJsonl } from "../../src/domains/knowledge/data.js";
import type { EvaluationRecord } from "../../src/domains/knowledge/evaluation-records.js";
import { loadModel } from "../../src/io/model-files.js";
import { fingerprintModelFolder } from "../../src/seal/fingerprint.js";
import { knowledgeDataMissing, knowledgeDataPath } from "../domains/knowledge/shared-data.js";
import { createTinyModel, LOST_LANDS, parseJsonl, seal, sealResult } from "./cli-fixtures.js";
import { assertSameRun, killAndResume } from "./kill-resume.js";

const { root, model } = createTinyModel("seal-cli-train-");
after(() => fs.rmSync(root, { recursive: true, force: true }));

const data = path.join(root, "passages.json");
fs.writeFileSync(
  data,
  JSON.stringify([
    ...LOST_LANDS,
    { title: "Mu", context: "Mu was in the Pacific.", questions: [{ question: "Where was Mu?", answer: "Pacific" }] },
  ]),
);

/** Tiny settings: 2 self-edits × 1 repeat × 2 passages, 1 inner epoch, rank-4 LoRAs, short generations. */
function tinyOptions(out: string, extra: Partial<KnowledgeTrainOptions> = {}): KnowledgeTrainOptions {
  return {
    model,
    data,
    out,
    rounds: 1,
    k: 2,
    repeats: 1,
    passages: 2,
    start: 0,
    temperature: 1,
    topP: 0.95,
    maxTokens: 8,
    genBatch: 16,
    sftRank: 4,
    sftAlpha: 8,
    sftLr: 3e-4,
    sftEpochs: 2,
    sftBatch: 1,
    sftGradAccum: 2,
    rank: 4,
    alpha: 8,
    targets: ["q_proj", "v_proj"],
    lr: 1e-3,
    epochs: 1,
    batchSize: 1,
    splitNewlines: true,
    maxAnswerTokens: 3,
    seed: 0,
    ...extra,
  };
}

const quiet = { log: () => {} };

function weightsDiffer(a: string, b: string): boolean {
  const wa = loadModel(a).weights;
  const wb = loadModel(b).weights;
  return wa.layers.some((layer, i) =>
    (["q", "v", "down"] as const).some((p) => {
      const key = `${p}Proj` as keyof typeof layer;
      const x = layer[key] as Float32Array;
      const y = wb.layers[i][key] as Float32Array;
      return x.some((value, j) => value !== y[j]);
    }),
  );
}

describe("seal knowledge train", () => {
  it("--help lists the options, and the command is registered", () => {
    const help = seal(["knowledge", "train", "--help"]);
    for (const flag of [
      "--teacher",
      "--only-improving",
      "--sft-data",
      "--sft-grad-accum",
      "--repeats",
      "--grader",
      "--resume",
    ]) {
      assert.ok(help.includes(flag), flag);
    }
    assert.equal(typeof registerKnowledgeTrain, "function");
    const missing = sealResult(["knowledge", "train", "--model", model, "--out", path.join(root, "none")]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /give --data .* or --sft-data/);
  });

  const fullRun = path.join(root, "full");
  it("one round: picks the best self-edit per passage, SFTs and merges a new checkpoint, writes a summary", async () => {
    const summary = await runKnowledgeTrain(tinyOptions(fullRun), quiet);
    const roundDir = path.join(fullRun, "round-0");
    const selfEdits = readSelfEditFile(path.join(roundDir, "generate", "self_edits.json"));
    assert.equal(selfEdits.length, 2);
    assert.ok(selfEdits.every((record) => record.completions.length === 2));
    const records = parseJsonl<EvaluationRecord>(
      fs.readFileSync(path.join(roundDir, "evaluate", "records.jsonl"), "utf8"),
    );
    assert.equal(records.length, 4);
    const rows = readSftJsonl(path.join(roundDir, "sft.jsonl"));
    assert.equal(rows.length, 2);
    rows.forEach((row, passage) => {
      const rewards = [0, 1].map(
        (edit) => records.find((r) => r.passage === passage && r.edit === edit)?.adaptedAccuracy as number,
      );
      const best = rewards[1] > rewards[0] ? 1 : 0;
      assert.equal(row.prompt, selfEdits[passage].prompt);
      assert.equal(row.completion, selfEdits[passage].completions[best]);
      assert.match(row.prompt, /^Let's read the following passage/);
    });
    const checkpoint = path.join(roundDir, "model");
    assert.ok(fs.existsSync(path.join(checkpoint, "tokenizer.json")));
    assert.ok(weightsDiffer(model, checkpoint), "the merged checkpoint differs from the input");
    assert.equal(summary.finalModel, checkpoint);
    assert.equal(summary.rounds.length, 1);
    assert.equal(summary.rounds[0].selection?.rows, 2);
    assert.equal(summary.rounds[0].sft?.rows, 2);
    assert.ok(Number.isFinite(summary.rounds[0].sft?.lastEpochLoss));
    assert.equal(summary.rounds[0].student, path.resolve(model));
    const json = JSON.parse(fs.readFileSync(path.join(fullRun, "summary.json"), "utf8"));
    assert.equal(json.format, "seal-knowledge-train/1");
    assert.match(fs.readFileSync(path.join(fullRun, "summary.md"), "utf8"), /# ReST-EM training/);
    // plots: the rounds chart (3 series, one point per round) and each round's reward histogram (10 bars)
    const rounds = fs.readFileSync(path.join(fullRun, "rounds.svg"), "utf8");
    assert.ok(rounds.startsWith("<svg"));
    const series = [...rounds.matchAll(/class="series"[^>]*points="([^"]*)"/g)].map((m) => m[1].split(" ").length);
    assert.deepEqual(series, [1, 1, 1]);
    const rewards = fs.readFileSync(path.join(fullRun, "reward-round-0.svg"), "utf8");
    assert.ok(rewards.startsWith("<svg"));
    assert.equal(rewards.match(/class="bar"/g)?.length, 10);
    const markdown = fs.readFileSync(path.join(fullRun, "summary.md"), "utf8");
    assert.match(markdown, /\]\(rounds\.svg\)/);
    assert.match(markdown, /\]\(reward-round-0\.svg\)/);
  });

  it("kill -9 mid-sub-run creation, mid-inner-loop, between phases, mid-SFT, mid-checkpoint write and before the SFT record; --resume gives the same run", () => {
    // the CLI spelling of tinyOptions
    const args = (out: string) => [
      ...["knowledge", "train", "--model", model, "--data", data, "--out", out, "--rounds", "1", "--k", "2"],
      ...["--repeats", "1", "--passages", "2", "--max-tokens", "8", "--sft-rank", "4", "--sft-alpha", "8"],
      ...["--sft-grad-accum", "2", "--rank", "4", "--alpha", "8", "--targets", "q_proj,v_proj", "--epochs", "1"],
      ...["--max-answer-tokens", "3"],
    ];
    const out = path.join(root, "killed");
    killAndResume(out, {
      args,
      crashes: [
        "write:run.json@3", // the evaluate sub-run's run.json: its folder holds only a lock and a temp file
        "train-step:inner@2",
        "record:round-0/select",
        "train-step:sft",
        "write:model.safetensors",
        "published:model",
      ],
    });
    assertSameRun(out, fullRun);
  });

  it("--grader judge: the judge's verdicts are the rewards, failed calls give no reward, the summary names it", async () => {
    const out = path.join(root, "judged");
    // a stand-in judge: the capital question is always right, Lemuria's calls always fail, the rest is wrong
    const judge = {
      grade: async (item: { question: string }) => {
        if (item.question.includes("Lemuria")) return { verdict: "failed" as const, error: "HTTP 503", attempts: 4 };
        return {
          verdict: item.question.includes("capital") ? ("correct" as const) : ("incorrect" as const),
          attempts: 1,
        };
      },
    };
    const summary = await runKnowledgeTrain(
      tinyOptions(out, {
        grader: "judge",
        judgeModel: "judge-m",
        judgeBaseUrl: "http://127.0.0.1:9",
        maxJudgeFailures: { kind: "fraction", value: 0.5 },
      }),
      { ...quiet, judge },
    );
    const selection = JSON.parse(fs.readFileSync(path.join(out, "round-0", "selection.json"), "utf8"));
    assert.deepEqual(
      selection.map((pick: { rewards: (number | null)[] }) => pick.rewards),
      [
        [0.5, 0.5],
        [null, null],
      ],
    );
    assert.equal(readSftJsonl(path.join(out, "round-0", "sft.jsonl")).length, 1, "no reward, no SFT row");
    assert.equal(summary.rounds[0].selection?.rows, 1);
    const run = JSON.parse(fs.readFileSync(path.join(out, "run.json"), "utf8"));
    assert.deepEqual(run.config.grader, { kind: "judge", model: "judge-m", baseUrl: "http://127.0.0.1:9" });
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /Grader: LLM judge judge-m/);
  });

  it("resumes after an interruption between phases without redoing finished phases", async () => {
    const out = path.join(root, "interrupted");
    await assert.rejects(
      runKnowledgeTrain(tinyOptions(out), {
        ...quiet,
        onPhaseDone: (key) => {
          if (key === "round-0/evaluate") throw new Error("interrupted");
        },
      }),
      /interrupted/,
    );
    assert.ok(!fs.existsSync(path.join(out, "round-0", "sft.jsonl")));
    const selfEditsFile = path.join(out, "round-0", "generate", "self_edits.json");
    const recordsFile = path.join(out, "round-0", "evaluate", "records.jsonl");
    const before = { selfEdits: fs.statSync(selfEditsFile).mtimeMs, records: fs.readFileSync(recordsFile, "utf8") };
    const lines: string[] = [];
    const summary = await runKnowledgeTrain(tinyOptions(out, { resume: true }), { log: (line) => lines.push(line) });
    assert.ok(lines.includes("round 0: generate already finished"));
    assert.ok(lines.includes("round 0: evaluate already finished"));
    assert.equal(fs.statSync(selfEditsFile).mtimeMs, before.selfEdits);
    assert.equal(fs.readFileSync(recordsFile, "utf8"), before.records);
    // same seeds, same data: the resumed run equals the uninterrupted one
    assert.equal(
      fs.readFileSync(path.join(out, "round-0", "sft.jsonl"), "utf8"),
      fs.readFileSync(path.join(fullRun, "round-0", "sft.jsonl"), "utf8"),
    );
    assert.equal(summary.rounds[0].complete, true);
    const phases = parseJsonl<{ key: string }>(fs.readFileSync(path.join(out, "phases.jsonl"), "utf8"));
    assert.deepEqual(
      phases.map((p) => p.key),
      ["round-0/generate", "round-0/evaluate", "round-0/select", "round-0/sft"],
    );
    // a finished run resumed again does nothing new
    const again: string[] = [];
    await runKnowledgeTrain(tinyOptions(out, { resume: true }), { log: (line) => again.push(line) });
    assert.ok(again.includes("round 0: sft already finished"));
  });

  it("teacher mode trains the teacher and leaves the student untouched", async () => {
    const teacherRoot = createTinyModel("seal-cli-train-teacher-");
    try {
      const out = path.join(root, "teacher");
      const studentBefore = fingerprintModelFolder(model).sha256;
      const summary = await runKnowledgeTrain(
        tinyOptions(out, { teacher: teacherRoot.model, onlyImproving: false }),
        quiet,
      );
      assert.equal(fingerprintModelFolder(model).sha256, studentBefore);
      const generateRun = JSON.parse(fs.readFileSync(path.join(out, "round-0", "generate", "run.json"), "utf8"));
      const evaluateRun = JSON.parse(fs.readFileSync(path.join(out, "round-0", "evaluate", "run.json"), "utf8"));
      assert.equal(generateRun.config.paths.model, path.resolve(teacherRoot.model));
      assert.equal(evaluateRun.fingerprints.model.path, path.resolve(model));
      assert.equal(summary.rounds[0].generator, path.resolve(teacherRoot.model));
      assert.equal(summary.rounds[0].student, path.resolve(model));
      assert.ok(weightsDiffer(teacherRoot.model, path.join(out, "round-0", "model")));
    } finally {
      fs.rmSync(teacherRoot.root, { recursive: true, force: true });
    }
  });

  it("--sft-data runs only SFT + merge on given rows (the reference's EM_SFT format)", {
    skip: knowledgeDataMissing,
  }, async () => {
    const source = knowledgeDataPath("synthetic_data", "EM_SFT", "sft_best1of5_iter0.jsonl");
    const rows = fs.readFileSync(source, "utf8").split("\n").filter(Boolean).slice(0, 2);
    const file = path.join(root, "sft.jsonl");
    fs.writeFileSync(file, `${rows.join("\n")}\n`);
    const out = path.join(root, "sft-only");
    const result = sealResult([
      "knowledge",
      "train",
      "--model",
      model,
      "--sft-data",
      file,
      "--out",
      out,
      "--sft-rank",
      "2",
      "--sft-alpha",
      "4",
      "--sft-epochs",
      "1",
      "--sft-targets",
      "all",
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(weightsDiffer(model, path.join(out, "model")));
    const json = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    assert.equal(json.rounds[0].sft.rows, 2);
    assert.equal(json.rounds[0].sft.steps, 1);
    assert.equal(json.config.sft.lora.targets.length, 7);
  });
});
