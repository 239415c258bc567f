import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createTinyModel, sealResult } from "./cli-fixtures.js";

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

  it("trains one adapter on the pool and writes the run folder", () => {
    const out = path.join(root, "run");
    const args = ["knowledge", "cpt", "--model", model, "--self-edits", input, "--out", out];
    const tiny = ["--k", "2", "--epochs", "1", "--rank", "2", "--alpha", "4", "--max-answer-tokens", "2"];
    const result = sealResult([...args, ...tiny]);
    assert.equal(result.status, 0, result.stderr);
    // 2 passages × 2 self-edits × (1 segment + the passage) = 8 sequences.
    assert.match(result.stdout, /2 passages, 2 questions, 8 training sequences/);
    assert.match(result.stdout, /micro: baseline/);
    for (const file of ["summary.md", "summary.json", "records.jsonl", "run.json", "loss.svg", "training.json"]) {
      assert.ok(fs.existsSync(path.join(out, file)), file);
    }
    assert.ok(fs.existsSync(path.join(out, "adapter", "adapter_config.json")));
    const again = sealResult([...args, ...tiny, "--resume"]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, result.stdout);
  });
});
