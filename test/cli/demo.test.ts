import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { runDemoCommand, runDemoSeeds } from "../../src/cli/commands/demo.js";
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
      // self-edit conditions read their self-edits' facts; oracle self-edits state every fact truly
      const hasSelfEdits = !["base", "passage"].includes(c.key);
      assert.equal(c.selfEditFacts !== null, hasSelfEdits, c.key);
      if (c.selfEditFacts !== null) assert.equal(c.selfEditFacts.selfEdits, 3, `${c.key}: evalK 1 × 3 passages`);
    }
    assert.deepEqual(report.conditions.find((c) => c.key === "oracle")?.selfEditFacts, {
      selfEdits: 3,
      correct: 1,
      wrong: 0,
    });
    assert.deepEqual(
      report.comparisons.map((c) => [c.label, c.difference.n]),
      [
        ["base-model self-edits − passage only", 3],
        ["SEAL round 1 − base-model self-edits", 3],
      ],
    );
    assert.equal(report.rounds.length, 1);
    // the round's facts are read from its samples: 3 passages × k 2, and one chosen self-edit per kept passage
    assert.equal(report.rounds[0].factsAll?.selfEdits, 6);
    assert.ok((report.rounds[0].factsChosen?.selfEdits ?? -1) <= 3);
    assert.equal(report.examples.length, 2);
    assert.ok(report.forgetting !== null);
    const markdown = fs.readFileSync(path.join(out, "report.md"), "utf8");
    assert.match(markdown, /\| SEAL after ReST-EM round 1 \|/);
    const html = fs.readFileSync(path.join(out, "report.html"), "utf8");
    assert.match(html, /<table>/);
    // self-contained: both plots inlined as SVG elements, nothing linked that a moved page would lose
    assert.equal(html.match(/<figure><svg role="img"/g)?.length, 2);
    assert.doesNotMatch(html, /<img |<\?xml/);
    for (const file of ["rewards.svg", "forgetting.svg", "summary.json"])
      assert.ok(fs.existsSync(path.join(out, file)), file);
    const again = await runDemoCommand({ model, out, quick: true, seed: 0 });
    assert.deepEqual(
      again.conditions.map((c) => c.macro),
      report.conditions.map((c) => c.macro),
    );
    assert.ok(again.minutes > report.minutes, "a resumed demo adds its time to the recorded minutes");
  });

  it("demo --seeds 2 runs one demo per seed and averages them passage by passage", async () => {
    const out = path.join(root, "seeds");
    const model = path.join(pretrainDir, "model");
    // seed 0 is the demo above: it resumes from its records instead of running again
    fs.cpSync(path.join(root, "demo"), path.join(out, "seed-0"), { recursive: true });
    const combined = await runDemoSeeds({ model, out, quick: true, seed: 0, seeds: 2 });
    const seed0 = JSON.parse(fs.readFileSync(path.join(out, "seed-0", "summary.json"), "utf8"));
    const seed1 = JSON.parse(fs.readFileSync(path.join(out, "seed-1", "summary.json"), "utf8"));
    assert.deepEqual(combined.seeds, [0, 1]);
    assert.equal(seed1.settings.seed, 1);
    for (const [i, c] of combined.conditions.entries()) {
      assert.deepEqual(c.perSeed, [seed0.conditions[i].macro.mean, seed1.conditions[i].macro.mean], c.key);
      const passage0 = [seed0, seed1].map((s) => s.conditions[i].perPassage[0]);
      assert.equal(c.perPassage[0], (passage0[0] + passage0[1]) / 2, c.key);
    }
    assert.equal(combined.comparisons.length, 2);
    assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /# SEAL-mini demo over 2 seeds/);
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
