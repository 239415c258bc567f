import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import {
  parseQueryServerResult,
  readContinualResult,
  readCptResult,
  readQueryServerResult,
  summarizeContinualResult,
  summarizeCptResult,
  summarizeQueryServerResult,
  toPercent2,
} from "../../../src/domains/knowledge/results.js";
import { knowledgeResultsDir, knowledgeResultsMissing } from "./shared-data.js";

const resultsDir = knowledgeResultsDir;
const evalFile = (name: string) => path.join(resultsDir, "query_server", "eval", `${name}.json`);

const close = (actual: number, expected: number, tolerance: number) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} vs ${expected} (±${tolerance})`);

// Macro accuracies of spec §1.10 / paper Table 1, recomputed from per-question verdicts.
const golden: [string, { baseline: number; adapter: number; microBaseline?: number; microAdapter?: number }][] = [
  ["iter2", { baseline: 33.36, adapter: 46.99 }],
  ["base", { baseline: 32.67, adapter: 39.68, microAdapter: 40.66 }],
  ["naive", { baseline: 32.31, adapter: 33.51 }],
];

for (const [name, expected] of golden) {
  test(`query_server ${name}.json: macro accuracy recomputed from verdicts = ${expected.baseline} → ${expected.adapter}`, {
    skip: knowledgeResultsMissing,
  }, () => {
    const summary = summarizeQueryServerResult(readQueryServerResult(evalFile(name)));
    assert.equal(summary.articles, 200);
    assert.equal(summary.verdicts, 974);
    close(summary.macro.baseline * 100, expected.baseline, 0.005);
    close(summary.macro.adapter * 100, expected.adapter, 0.005);
    assert.equal(toPercent2(summary.macro.baseline), expected.baseline);
    assert.equal(toPercent2(summary.macro.adapter), expected.adapter);
    // The file's own (4 dp) overall numbers agree with the recomputation.
    close(summary.macro.baseline, summary.stored.baseline, 0.00005);
    close(summary.macro.adapter, summary.stored.adapter, 0.00005);
    // The spreads are sample stds (n − 1) of article means, as the file states.
    close(summary.stdOfArticleMeans.adapter, summary.stored.stdOfArticleMeans.adapter, 0.00005);
    close(summary.stdOfArticleMeans.baseline, summary.stored.stdOfArticleMeans.baseline, 0.00005);
    if (expected.microAdapter !== undefined) assert.equal(toPercent2(summary.micro.adapter), expected.microAdapter);
    assert.notEqual(toPercent2(summary.micro.adapter), toPercent2(summary.macro.adapter));
  });
}

test("query_server micro accuracies (pooled verdicts)", { skip: knowledgeResultsMissing }, () => {
  const micro = (name: string) => summarizeQueryServerResult(readQueryServerResult(evalFile(name))).micro;
  const iter2 = micro("iter2");
  assert.deepEqual([toPercent2(iter2.baseline), toPercent2(iter2.adapter)], [33.26, 46.71]);
  const base = micro("base");
  assert.deepEqual([toPercent2(base.baseline), toPercent2(base.adapter)], [32.03, 40.66]);
  const naive = micro("naive");
  assert.deepEqual([toPercent2(naive.baseline), toPercent2(naive.adapter)], [31.72, 33.57]);
});

test("cpt_iter2.json: micro accuracy from server_reply = 33.26 → 43.84", { skip: knowledgeResultsMissing }, () => {
  const result = readCptResult(path.join(resultsDir, "cpt", "cpt_iter2.json"));
  const summary = summarizeCptResult(result);
  assert.equal(summary.questions, 974);
  assert.equal(toPercent2(summary.micro.baseline), 33.26);
  assert.equal(toPercent2(summary.micro.adapter), 43.84);
  close(summary.micro.adapter - summary.micro.baseline, result.server_reply.adapter_gain, 0.00005);
  assert.equal(
    summary.improved - summary.regressed,
    result.server_reply.gains.reduce((a, b) => a + b, 0),
  );
  // per_article is keyed by title, so the 200 articles collapse into fewer entries.
  assert.equal(Object.keys(result.per_article).length, 47);
});

test("continual overall_results.json: base row, diagonal, forgetting curve", { skip: knowledgeResultsMissing }, () => {
  const summary = summarizeContinualResult(
    readContinualResult(path.join(resultsDir, "continual_self_edits", "overall_results.json")),
  );
  const rounded = (values: number[]) => values.map((v) => Math.round(v * 1000) / 1000);
  assert.deepEqual(rounded(summary.base), [0.331, 0.321, 0.276, 0.326, 0.33, 0.337, 0.287, 0.253]);
  assert.deepEqual(rounded(summary.justEdited), [0.383, 0.499, 0.446, 0.44, 0.376, 0.449, 0.385, 0.34]);
  assert.deepEqual(rounded(summary.firstPassageAfterEdits), [0.383, 0.364, 0.288, 0.272, 0.235, 0.233, 0.186, 0.189]);
  assert.deepEqual(rounded(summary.finalRow), [0.189, 0.219, 0.164, 0.237, 0.221, 0.275, 0.335, 0.34]);
});

test("macro averages repetitions inside a completion and completions inside an article", () => {
  const question = (rep: number, baseline: boolean, adapter: boolean) => ({
    rep,
    question: "q",
    answer: "a",
    baseline_answer: "b",
    adapter_answer: "c",
    baseline_correct: baseline,
    adapter_correct: adapter,
  });
  const completion = (questions: ReturnType<typeof question>[]) => ({
    text: "",
    stats: { baseline_mean: 0, baseline_std: 0, adapter_mean: 0, adapter_std: 0, gain_mean: 0 },
    questions,
  });
  const stats = {
    baseline_accuracy: 0,
    adapter_mean_accuracy: 0,
    adapter_std_over_completions: 0,
    mean_adapter_std_within_completions: 0,
    mean_gain: 0,
  };
  const overall = {
    baseline_mean_accuracy: 0,
    baseline_std_of_article_means: 0,
    adapter_mean_accuracy: 0,
    adapter_std_of_article_means: 0,
    mean_adapter_std_over_completions: 0,
    mean_adapter_std_within_completions: 0,
    mean_gain: 0,
  };
  const lora = { rank: 1, alpha: 1, dropout: 0, epochs: 1, lr: 1, batch_size: 1, grad_accum_steps: 1 };
  const value = {
    overall,
    timestamp: "t",
    exp_name: "x",
    dataset: "d",
    split_newlines: true,
    n_articles: 2,
    k_completions: 2,
    eval_times: 2,
    lora_params: lora,
    articles: [
      {
        stats,
        title: "A",
        context: "",
        completions: [
          // rep 0: 1/2 adapter right, rep 1: 2/2 → completion 0.75
          completion([
            question(0, false, true),
            question(0, false, false),
            question(1, true, true),
            question(1, false, true),
          ]),
          // 0/2 → 0
          completion([question(0, false, false), question(0, false, false)]),
        ],
      },
      { stats, title: "B", context: "", completions: [completion([question(0, true, true)])] },
    ],
  };
  const summary = summarizeQueryServerResult(parseQueryServerResult(value, "in-memory"));
  assert.equal(summary.perArticle[0].adapter, 0.375);
  assert.equal(summary.macro.adapter, (0.375 + 1) / 2);
  assert.equal(summary.micro.adapter, 4 / 7);
  assert.equal(summary.macro.baseline, (0.25 / 2 + 1) / 2);
});

test("invalid files are rejected naming the file and field", { skip: knowledgeResultsMissing }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seal-results-"));
  const file = path.join(dir, "broken.json");
  const original = JSON.parse(fs.readFileSync(evalFile("naive"), "utf8"));
  original.articles[3].completions[0].questions[1].adapter_correct = "yes";
  fs.writeFileSync(file, JSON.stringify(original));
  assert.throws(
    () => readQueryServerResult(file),
    (error: Error) =>
      error.message.includes(file) && error.message.includes('"articles.3.completions.0.questions.1.adapter_correct"'),
  );
  const cptFile = path.join(dir, "cpt.json");
  const cpt = JSON.parse(fs.readFileSync(path.join(resultsDir, "cpt", "cpt_iter2.json"), "utf8"));
  cpt.server_reply.adapter_correct.pop();
  fs.writeFileSync(cptFile, JSON.stringify(cpt));
  assert.throws(() => readCptResult(cptFile), /server_reply\.adapter_correct": expected 974 entries/);
  fs.rmSync(dir, { recursive: true });
});
