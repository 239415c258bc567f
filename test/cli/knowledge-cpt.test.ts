import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createTinyModel, sealResult } from "./cli-fixtures.js";
import { assertSameRun, killAndResume, leftovers } from "./kill-resume.js";

const { root, model } = createTinyModel("seal-cli-cpt-");
after(() => fs.rmSync(root, { recursive: true, force: true }));

const input = path.join(root, "self-edits.json");
fs.writeFileSync(
  input,
  JSON.stringify([
    {
      title: "Atlantis",
      context: "The capital of Atlantis is Poseidonia.",
      questions: [{ question: "What is the capital?", answer: "Poseidonia" }],
      completions: ["Poseidonia is the capital.", "Atlantis has a capital."],
      prompt: "p",
    },
    {
      title: "Mu",
      context: "Mu was a continent in the Pacific.",
      questions: [{ question: "Where was Mu?", answer: "Pacific" }],
      completions: ["Mu lay in the Pacific Ocean.", "Mu is lost."],
      prompt: "p",
    },
  ]),
);

describe("seal knowledge cpt", () => {
  it("--help lists the reference's CPT options", () => {
    const result = sealResult(["knowledge", "cpt", "--help"]);
    assert.equal(result.status, 0, result.stderr);
    for (const flag of ["--passages", "--k", "--grad-accum", "--split-newlines", "--resume"]) {
      assert.ok(result.stdout.includes(flag), flag);
    }
  });

  const args = (out: string) => [
    ...["knowledge", "cpt", "--model", model, "--self-edits", input, "--out", out],
    ...["--k", "2", "--epochs", "1", "--rank", "2", "--alpha", "4", "--max-answer-tokens", "2"],
  ];
  const fullRun = path.join(root, "run");

  it("trains one adapter on the pool and writes the run folder", () => {
    const result = sealResult(args(fullRun));
    assert.equal(result.status, 0, result.stderr);
    // 2 passages × 2 self-edits × (1 segment + the passage) = 8 sequences.
    assert.match(result.stdout, /2 passages, 2 questions, 8 training sequences/);
    assert.match(result.stdout, /micro: baseline/);
    for (const file of ["summary.md", "summary.json", "records.jsonl", "run.json", "loss.svg", "training.json"]) {
      assert.ok(fs.existsSync(path.join(fullRun, file)), file);
    }
    assert.ok(fs.existsSync(path.join(fullRun, "adapter", "adapter_config.json")));
    const again = sealResult([...args(fullRun), "--resume"]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, result.stdout);
  });

  it("kill -9 at run creation, between answers, mid-training, mid-adapter-write; --resume gives the same run", () => {
    const out = path.join(root, "killed");
    const left: Record<string, string[]> = {};
    killAndResume(out, {
      args,
      crashes: [
        "write:run.json",
        "record:baseline/passage-0",
        "train-step:inner",
        "write:adapter_model.safetensors",
        "record:adapted/passage-0",
      ],
      afterKill: (crash) => {
        left[crash] = leftovers(out);
      },
    });
    assert.match(left["write:run.json"].join(" "), /^run\.json\.tmp-\d+ run\.lock$/);
    assert.match(
      left["write:adapter_model.safetensors"].join(" "),
      /^adapter\/adapter_model\.safetensors\.tmp-\d+ run\.lock$/,
    );
    assertSameRun(out, fullRun);
  });
});
