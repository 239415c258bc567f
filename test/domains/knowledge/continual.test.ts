import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  aggregateMatrices,
  type ContinualConfig,
  type ContinualRecord,
  defaultContinualConfig,
  forgettingHeatmap,
  fromReferenceMatrix,
  matrixMarkdown,
  runContinual,
  samplePassages,
  toReferenceMatrix,
} from "../../../src/domains/knowledge/continual.js";
import { readContinualResult } from "../../../src/domains/knowledge/results.js";
import { createTinyModel, parseJsonl } from "../../cli/cli-fixtures.js";
import { knowledgeResultsDir, knowledgeResultsMissing } from "./shared-data.js";

const { root, model } = createTinyModel("seal-continual-");
after(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = { write: () => {} };

const referenceFile = path.join(knowledgeResultsDir, "continual_self_edits", "overall_results.json");

const PASSAGES = ["Atlantis", "Lemuria", "Mu", "Hyperborea"].map((title, i) => ({
  title,
  context: `${title} is a lost land number ${i}. Its capital is City${i}.`,
  questions: [
    { question: `What is the capital of ${title}?`, answer: `City${i}` },
    { question: "Which number is it?", answer: `${i}` },
  ],
}));
const dataFile = path.join(root, "passages.json");
fs.writeFileSync(dataFile, JSON.stringify(PASSAGES));

function tinyConfig(): ContinualConfig {
  const base = defaultContinualConfig();
  return defaultContinualConfig({
    runs: 2,
    sequenceLength: 2,
    seed: 7,
    lora: { rank: 2, alpha: 4, dropout: 0, targets: ["q_proj", "v_proj"] },
    train: { ...base.train, epochs: 1, lr: 5e-2 },
    maxTokens: 6,
    maxAnswerTokens: 3,
  });
}

function readRecords(out: string): ContinualRecord[] {
  return parseJsonl<{ key: string; record: ContinualRecord }>(
    fs.readFileSync(path.join(out, "records.jsonl"), "utf8"),
  ).map((line) => line.record);
}

describe("continual matrix helpers", () => {
  it("samples distinct passages, reproducibly", () => {
    const a = samplePassages(10, 8, 42);
    assert.equal(new Set(a).size, 8);
    assert.deepEqual(samplePassages(10, 8, 42), a);
    assert.notDeepEqual(samplePassages(10, 8, 43), a);
    assert.throws(() => samplePassages(3, 4, 0), /sequence-length/);
  });

  it("averages runs cell by cell (plain mean, population std), undefined cells stay null", () => {
    const { mean, std } = aggregateMatrices([
      [
        [0.5, 1],
        [1, null],
        [0, 0.5],
      ],
      [
        [0.5, 0],
        [0, null],
        [1, 0.5],
      ],
    ]);
    assert.deepEqual(mean, [
      [0.5, 0.5],
      [0.5, null],
      [0.5, 0.5],
    ]);
    assert.deepEqual(std, [
      [0, 0.5],
      [0.5, null],
      [0.5, 0],
    ]);
  });

  it("renders the reference's overall_results.json: row 0 and the diagonal", { skip: knowledgeResultsMissing }, () => {
    const reference = readContinualResult(referenceFile);
    const matrix = fromReferenceMatrix(reference.mean_over_sequences);
    assert.equal(matrix.length, 9);
    assert.deepEqual(matrix[0], [0.3309, 0.3214, 0.2756, 0.3258, 0.3299, 0.3366, 0.2868, 0.2529]);
    assert.deepEqual(
      matrix.slice(1).map((row, k) => row[k]),
      [0.3825, 0.4988, 0.4462, 0.4397, 0.3764, 0.4489, 0.3846, 0.3397],
    );
    assert.equal(matrix[1][1], null);
    assert.equal(matrix[8][7], 0.3397);
    assert.deepEqual(toReferenceMatrix(matrix), reference.mean_over_sequences);
    const markdown = matrixMarkdown(matrix, fromReferenceMatrix(reference.std_over_sequences));
    assert.ok(markdown.includes("| base | 0.331 ± 0.245 |"));
    assert.ok(markdown.includes("| 1 | 0.383 ± 0.218 |  |"));
    const svg = forgettingHeatmap(matrix, "reference");
    // 8 + (1 + 2 + ... + 8) = 44 defined cells.
    assert.equal((svg.match(/<rect class="cell"/g) ?? []).length, 44);
    assert.ok(svg.includes(">0.331</text>") && svg.includes(">0.340</text>"));
  });
});

describe("knowledge continual", () => {
  const out = path.join(root, "run");
  let summary: Awaited<ReturnType<typeof runContinual>>;

  it("produces a (K+1)×K matrix per run, row 0 = base accuracies, and a heatmap", async () => {
    summary = await runContinual({
      modelDir: model,
      dataPath: dataFile,
      outDir: out,
      resume: false,
      config: tinyConfig(),
      progressStream: quiet,
    });
    assert.equal(summary.matrices.length, 2);
    const records = readRecords(out);
    assert.equal(records.length, 2 * 3);
    for (const [r, matrix] of summary.matrices.entries()) {
      assert.equal(matrix.length, 3);
      for (const [i, row] of matrix.entries()) {
        for (const [j, v] of row.entries()) {
          if (i === 0 || j < i) assert.ok(v !== null && Number.isFinite(v), `run ${r} cell ${i},${j}`);
          else assert.equal(v, null);
        }
      }
      const base = records.find((x) => x.key === `run-${r}/base`);
      assert.ok(base);
      assert.deepEqual(
        matrix[0],
        base.evaluations.map((e) => e.grades.filter((g) => g.correct).length / e.grades.length),
      );
      for (let step = 0; step < 2; step++) {
        const rec = records.find((x) => x.key === `run-${r}/step-${step}`);
        assert.ok(rec);
        assert.equal(rec.evaluations.length, step + 1);
        assert.ok(rec.sequences && rec.sequences.length >= 1);
        assert.ok(fs.existsSync(path.join(out, "adapters", `run-${r}`, `step-${step}`, "adapter_model.safetensors")));
      }
    }
    // The adapters do change the answers (so the merged weights matter for the resume test below).
    const changed = records.some((rec) => {
      const base = records.find((x) => x.key === `run-${rec.run}/base`);
      return (
        rec.step >= 0 && JSON.stringify(rec.evaluations[0].answers) !== JSON.stringify(base?.evaluations[0].answers)
      );
    });
    assert.ok(changed);
    const svg = fs.readFileSync(path.join(out, "forgetting.svg"), "utf8");
    assert.equal((svg.match(/<rect class="cell"/g) ?? []).length, 2 + 1 + 2);
    const reference = JSON.parse(fs.readFileSync(path.join(out, "overall_results.json"), "utf8"));
    assert.equal(reference.mean_over_sequences[1][1], 0);
    assert.equal(reference.n_sequences, 2);
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /\| base \|/);
  });

  it("a run interrupted mid-sequence and resumed gives the same matrices", async () => {
    const out2 = path.join(root, "run-interrupted");
    await assert.rejects(
      runContinual({
        modelDir: model,
        dataPath: dataFile,
        outDir: out2,
        resume: false,
        config: tinyConfig(),
        progressStream: quiet,
        afterRecord: (key) => {
          if (key === "run-1/step-0") throw new Error("simulated crash");
        },
      }),
      /simulated crash/,
    );
    assert.equal(readRecords(out2).length, 5);
    const resumed = await runContinual({
      modelDir: model,
      dataPath: dataFile,
      outDir: out2,
      resume: true,
      config: tinyConfig(),
      progressStream: quiet,
    });
    assert.deepEqual(resumed.matrices, summary.matrices);
    const answers = (dir: string) =>
      readRecords(dir)
        .sort((a, b) => a.key.localeCompare(b.key))
        .map((r) => [r.key, r.selfEdit, r.evaluations.map((e) => e.answers)]);
    assert.deepEqual(answers(out2), answers(out));
  });

  it("a step whose training diverges stops the run with a clear error; nothing is saved or merged", async () => {
    const out3 = path.join(root, "run-diverged");
    const config = tinyConfig();
    await assert.rejects(
      runContinual({
        modelDir: model,
        dataPath: dataFile,
        outDir: out3,
        resume: false,
        config: { ...config, runs: 1, train: { ...config.train, lr: 1e30 } },
        progressStream: quiet,
      }),
      (error: Error) => {
        assert.equal(error.name, "TrainingDivergedError");
        assert.match(
          error.message,
          /^knowledge continual run-0\/step-0: training diverged at step 1 of \d+ .*nothing was saved or merged; lower --lr or --alpha$/,
        );
        return true;
      },
    );
    assert.deepEqual(
      readRecords(out3).map((r) => r.key),
      ["run-0/base"],
    );
    assert.ok(!fs.existsSync(path.join(out3, "adapters", "run-0", "step-0")), "no adapter saved");
  });
});
