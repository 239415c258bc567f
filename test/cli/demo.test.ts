import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { runDemoCommand } from "../../src/cli/commands/demo.js";
import { runMiniPretrainCommand } from "../../src/cli/commands/mini-pretrain.js";
import { tempDir } from "../io/fixtures.js";
import { createTinyModel, sealResult } from "./cli-fixtures.js";

const root = tempDir("seal-cli-demo-");
after(() => fs.rmSync(root, { recursive: true, force: true }));
const pretrainDir = path.join(root, "pretrain");

describe("seal mini pretrain and seal demo (--quick: mechanics)", () => {
  it("--help of both commands", () => {
    const demo = sealResult(["demo", "--help"]);
    assert.equal(demo.status, 0);
    for (const flag of ["--model", "--quick", "--eval-passages", "--rounds"])
      assert.ok(demo.stdout.includes(flag), flag);
    const pretrain = sealResult(["mini", "pretrain", "--help"]);
    assert.equal(pretrain.status, 0);
    for (const flag of ["--steps", "--quick", "--resume"]) assert.ok(pretrain.stdout.includes(flag), flag);
  });

  it("pretrain --quick builds the world and a model that learned something, with its world recorded", async () => {
    const summary = await runMiniPretrainCommand({ out: pretrainDir, seed: 0, quick: true });
    assert.ok(summary.finalLoss < summary.firstLoss - 1, `${summary.firstLoss} → ${summary.finalLoss}`);
    for (const file of ["config.json", "model.safetensors", "tokenizer.json", "seal_mini.json"])
      assert.ok(fs.existsSync(path.join(pretrainDir, "model", file)), file);
    for (const file of ["loss.svg", "summary.md", "pretrain_log.jsonl", "world/eval_passages.json"])
      assert.ok(fs.existsSync(path.join(pretrainDir, file)), file);
  });

  it("demo --quick runs every condition and writes the report; rerunning resumes to the same numbers", async () => {
    const out = path.join(root, "demo");
    const model = path.join(pretrainDir, "model");
    const report = await runDemoCommand({ model, out, quick: true, seed: 0 });
    assert.deepEqual(
      report.conditions.map((c) => c.key),
      ["base", "passage", "base-self-edits", "oracle", "seal-round-1"],
    );
    for (const c of report.conditions) {
      assert.ok(c.macro.mean !== null && c.macro.mean >= 0 && c.macro.mean <= 1, c.key);
      assert.equal(c.macro.n, 3, `${c.key}: three held-out passages`);
    }
    assert.equal(report.rounds.length, 1);
    assert.equal(report.examples.length, 2);
    assert.ok(report.forgetting !== null);
    const markdown = fs.readFileSync(path.join(out, "report.md"), "utf8");
    assert.match(markdown, /\| SEAL after ReST-EM round 1 \|/);
    assert.match(fs.readFileSync(path.join(out, "report.html"), "utf8"), /<table>/);
    for (const file of ["rewards.svg", "forgetting.svg", "summary.json"])
      assert.ok(fs.existsSync(path.join(out, file)), file);
    const again = await runDemoCommand({ model, out, quick: true, seed: 0 });
    assert.deepEqual(
      again.conditions.map((c) => c.macro),
      report.conditions.map((c) => c.macro),
    );
  });

  it("demo refuses a model folder that is not a SEAL-mini model", () => {
    const { root: other, model } = createTinyModel("seal-cli-demo-other-");
    try {
      const result = sealResult(["demo", "--quick", "--model", model, "--out", path.join(other, "demo")]);
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /not a SEAL-mini model/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
