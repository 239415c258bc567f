import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { DEMO_SETTINGS } from "../../../src/cli/commands/demo-run.js";
import {
  consolidationSettingsFor,
  DEMO_INNER_LOOP,
  DEMO_SELF_EDIT_SAMPLING,
  parseConsolidationSettings,
  referenceConsolidationSettings,
} from "../../../src/domains/memory/consolidation-settings.js";
import { gateDecision } from "../../../src/domains/memory/gate.js";
import { parseQuestionAnswerPairs, probesFromCompletions } from "../../../src/domains/memory/probes.js";
import { derivedSeed, sampleIds } from "../../../src/domains/memory/replay.js";
import { REPO_ROOT, tempDir } from "../../io/fixtures.js";

const root = tempDir("seal-consolidate-units-");
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe("consolidation settings", () => {
  it("SEAL-mini gets the `seal demo` inner loop and sampling; other models the reference's", () => {
    const mini = consolidationSettingsFor(path.join(REPO_ROOT, "models", "seal-mini"));
    assert.equal(mini.preset, "seal-mini");
    // the copy in the domain layer agrees with the demo's own settings
    assert.deepEqual(
      { ...DEMO_INNER_LOOP, targets: [...DEMO_INNER_LOOP.targets], maxAnswerTokens: undefined },
      { ...DEMO_SETTINGS.innerLoop, maxAnswerTokens: undefined },
    );
    assert.equal(DEMO_SELF_EDIT_SAMPLING.k, DEMO_SETTINGS.evalK);
    assert.equal(DEMO_SELF_EDIT_SAMPLING.maxTokens, DEMO_SETTINGS.selfEditMaxTokens);
    assert.equal(DEMO_SELF_EDIT_SAMPLING.temperature, DEMO_SETTINGS.temperature);
    assert.deepEqual(mini.lora, { rank: 32, alpha: 64, dropout: 0, targets: [...DEMO_SETTINGS.innerLoop.targets] });
    assert.equal(mini.train.lr, 3e-3);
    assert.equal(mini.train.epochs, 10);
    assert.equal(mini.answers.maxTokens, 24);
    assert.equal(mini.selfEdits.k, 2);

    const other = path.join(root, "other-model");
    fs.mkdirSync(other);
    const reference = consolidationSettingsFor(other);
    assert.equal(reference.preset, "reference");
    assert.deepEqual(reference.lora.targets, ["q_proj", "v_proj"]);
    assert.equal(reference.train.lr, 1e-3);
    assert.equal(reference.selfEdits.k, 5);
    assert.equal(reference.selfEdits.maxTokens, 8192);
    assert.equal(reference.answers.maxTokens, 64);
    assert.equal(reference.gate.maxForgetting, 0.05);
  });

  it("round-trips through JSON and names the bad field", () => {
    const settings = referenceConsolidationSettings();
    assert.deepEqual(parseConsolidationSettings(JSON.parse(JSON.stringify(settings))), settings);
    const bad = JSON.parse(JSON.stringify(settings));
    bad.gate.maxForgetting = 2;
    assert.throws(() => parseConsolidationSettings(bad), /field "gate\.maxForgetting"/);
    const extra = { ...settings, surprise: 1 };
    assert.throws(() => parseConsolidationSettings(extra), /surprise|unrecognized/i);
  });
});

describe("gate", () => {
  const base = { newDocuments: 3, maxForgetting: 0.05, forgottenRemoved: 0 };
  const none = { before: null, after: null, probes: 0 };
  it("promotes when new accuracy rises and forgetting stays within the margin", () => {
    const d = gateDecision({
      ...base,
      newAccuracy: { before: 0.1, after: 0.3, probes: 20 },
      earlierAccuracy: { before: 0.5, after: 0.45, probes: 20 },
    });
    assert.equal(d.promote, true);
    assert.equal(d.passed, true);
    assert.ok(Math.abs((d.forgetting ?? 0) - 0.05) < 1e-12);
    assert.match(d.reason, /^promoted/);
  });
  it("rejects when new accuracy does not strictly rise", () => {
    const d = gateDecision({ ...base, newAccuracy: { before: 0.2, after: 0.2, probes: 10 }, earlierAccuracy: none });
    assert.equal(d.promote, false);
    assert.match(d.reason, /did not rise/);
  });
  it("rejects when forgetting exceeds the margin", () => {
    const d = gateDecision({
      ...base,
      newAccuracy: { before: 0, after: 0.5, probes: 10 },
      earlierAccuracy: { before: 0.5, after: 0.4, probes: 10 },
    });
    assert.equal(d.promote, false);
    assert.match(d.reason, /fell by 10\.0 pts/);
  });
  it("rejects new documents without probes, saying so", () => {
    const d = gateDecision({ ...base, newAccuracy: none, earlierAccuracy: none });
    assert.equal(d.promote, false);
    assert.match(d.reason, /no probe questions/);
  });
  it("promotes a rebuild that removes forgotten documents even when it fails, with the failure in the reason", () => {
    const d = gateDecision({
      ...base,
      newDocuments: 0,
      forgottenRemoved: 1,
      newAccuracy: none,
      earlierAccuracy: { before: 0.5, after: 0.3, probes: 10 },
    });
    assert.equal(d.promote, true);
    assert.equal(d.passed, false);
    assert.match(d.reason, /forgotten/);
  });
  it("with no new documents, judges forgetting alone", () => {
    const d = gateDecision({ ...base, newDocuments: 0, newAccuracy: none, earlierAccuracy: none });
    assert.equal(d.promote, true);
  });
});

describe("probe parser", () => {
  it("reads one-line and two-line pairs, numbered or not", () => {
    const text =
      "Question 1: Where was Ada born? Answer: Paris.\nAda liked tea.\nQuestion: What did Ada study?\nAnswer: botany\n" +
      "Question 2: Which year? Answer: 1907";
    assert.deepEqual(parseQuestionAnswerPairs(text), [
      { question: "Where was Ada born?", answer: "Paris" },
      { question: "What did Ada study?", answer: "botany" },
      { question: "Which year?", answer: "1907" },
    ]);
  });
  it("yields nothing from garbage", () => {
    for (const garbage of [
      "",
      "Answer: Answer: Question:",
      "Question: \nAnswer: x",
      "Question: no question mark Answer: y",
      "\u0000\uffff Question:? Answer:",
      "Question: what?\nQuestion: again? Answer:   ",
      "}{][ ::: Question 12: Answer: 5",
      "x".repeat(5000),
      `Question: ${"a".repeat(400)}? Answer: b`,
    ])
      assert.deepEqual(parseQuestionAnswerPairs(garbage), [], JSON.stringify(garbage.slice(0, 40)));
  });
  it("keeps answers found in the document, drops duplicates and caps the count", () => {
    const doc = "Ada Vel was born in Pebulzhos in 1907. She studied botany.";
    const completions = [
      "Where was Ada Vel born? Answer: Pebulzhos\nQuestion 2: When was Ada Vel born? Answer: 1999",
      "Question: Where was Ada Vel born? Answer: Pebulzhos\nQuestion: What did Ada Vel study? Answer: botany",
    ];
    const probes = probesFromCompletions(completions, doc, "self-qa", { maxPerDocument: 5, requireGrounded: true });
    assert.deepEqual(probes, [
      { question: "Where was Ada Vel born?", answer: "Pebulzhos", origin: "generated" },
      { question: "What did Ada Vel study?", answer: "botany", origin: "generated" },
    ]);
    assert.equal(
      probesFromCompletions(completions, doc, "self-qa", { maxPerDocument: 1, requireGrounded: false }).length,
      1,
    );
    assert.deepEqual(
      probesFromCompletions(["total nonsense"], doc, "implications", { maxPerDocument: 5, requireGrounded: true }),
      [],
    );
  });
});

describe("replay sample", () => {
  it("is seeded, bounded and in the ids' order", () => {
    const ids = Array.from({ length: 20 }, (_, i) => `d${i}`);
    const a = sampleIds(ids, 5, derivedSeed(0, 1, "replay"));
    assert.equal(a.length, 5);
    assert.deepEqual(a, sampleIds(ids, 5, derivedSeed(0, 1, "replay")));
    assert.deepEqual(
      a,
      [...a].sort((x, y) => ids.indexOf(x) - ids.indexOf(y)),
    );
    assert.equal(new Set(a).size, 5);
    assert.deepEqual(sampleIds(ids.slice(0, 3), 5, 1), ids.slice(0, 3));
    assert.notDeepEqual(derivedSeed(0, 1, "a"), derivedSeed(0, 1, "b"));
  });
});
