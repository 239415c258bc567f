import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelConfig } from "../../src/engine/config.js";
import { TrainingDivergedError } from "../../src/engine/divergence.js";
import { adapterTensors, createLoraAdapter, type LoraAdapter, type LoraConfig } from "../../src/engine/lora.js";
import { Rng } from "../../src/engine/random.js";
import { type SftExample, type TrainOptions, trainSft } from "../../src/engine/train.js";
import { type AdapterJob, trainMany } from "../../src/engine/train-many.js";
import { maxAbsDiff, randomTokens, tinyConfig, tinyModel } from "./tiny-model.js";

/**
 * Tolerance of "trained together equals trained alone" (parameters of magnitude ~0.1–1, losses ~5): the only
 * difference between the two runs is how many rows the frozen base matmuls see, which picks a different kernel
 * (the small-M kernel up to 16 rows, OpenBLAS beyond) and so rounds each product differently (~1e-7 relative).
 * AdamW divides each update by √v, so where a gradient entry is near zero that rounding noise can move the entry by
 * up to lr per step; over these runs (≤ 9 steps, lr ≤ 1e-2) the largest difference measured was 3e-5.
 */
const TOLERANCE = 1e-4;

interface JobSpec {
  lora: LoraConfig;
  options: Partial<TrainOptions>;
  sequences: number;
  lengths: [number, number];
  masked: boolean;
}

const SPECS: JobSpec[] = [
  {
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] },
    options: { epochs: 3, lr: 5e-3, batchSize: 1, seed: 11 },
    sequences: 3,
    lengths: [5, 12],
    masked: false,
  },
  {
    lora: { rank: 8, alpha: 16, dropout: 0.1, targets: ["q_proj", "k_proj", "o_proj", "down_proj"] },
    options: { epochs: 2, lr: 1e-2, batchSize: 2, gradientAccumulation: 2, seed: 12, schedule: "cosine" },
    sequences: 5,
    lengths: [3, 20],
    masked: true,
  },
  {
    lora: { rank: 2, alpha: 4, dropout: 0.05, targets: ["gate_proj", "up_proj", "v_proj"] },
    options: { epochs: 4, lr: 3e-3, batchSize: 1, gradientAccumulation: 3, seed: 13, maxGradNorm: 0.05 },
    sequences: 4,
    lengths: [8, 16],
    masked: false,
  },
  {
    lora: { rank: 8, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] },
    options: { epochs: 3, lr: 1e-2, batchSize: 1, seed: 14, shuffle: false, warmupSteps: 1 },
    sequences: 1,
    lengths: [30, 30],
    masked: true,
  },
];

function examplesFor(spec: JobSpec, config: ModelConfig, rng: Rng): SftExample[] {
  return Array.from({ length: spec.sequences }, () => {
    const length = spec.lengths[0] + rng.int(spec.lengths[1] - spec.lengths[0] + 1);
    const tokens = randomTokens(rng, length, config.vocabSize);
    return { tokens, lossMask: spec.masked ? tokens.map((_, i) => i >= length / 2) : null };
  });
}

function buildJobs(config: ModelConfig, specs: JobSpec[]): AdapterJob[] {
  const rng = new Rng(7);
  return specs.map((spec, i) => ({
    examples: examplesFor(spec, config, rng),
    adapter: createLoraAdapter(config, spec.lora, new Rng(100 + i)),
    options: spec.options,
  }));
}

function cloneAdapter(adapter: LoraAdapter): LoraAdapter {
  return structuredClone(adapter);
}

for (const arch of ["llama", "qwen2"] as const)
  test(`${arch}: adapters trained together equal each trained alone (counts, lengths, epochs, accumulation, dropout differ)`, () => {
    const config = tinyConfig(arch);
    const model = tinyModel(config, 5);
    const jobs = buildJobs(config, SPECS);
    const alone = jobs.map((job) => {
      const adapter = cloneAdapter(job.adapter);
      const result = trainSft(model, job.examples, { kind: "lora", adapter }, job.options);
      return { adapter, losses: result.losses };
    });
    for (const maxRowsPerPass of [10_000, 25]) {
      const together = jobs.map((job) => ({ ...job, adapter: cloneAdapter(job.adapter) }));
      const losses: number[][] = jobs.map(() => []);
      const outcomes = trainMany(model, together, { maxRowsPerPass }, (job, report) => losses[job].push(report.loss));
      together.forEach((job, i) => {
        assert.ok(outcomes[i].ok, `job ${i} finished`);
        assert.equal(losses[i].length, alone[i].losses.length, `job ${i}: same number of steps`);
        assert.ok(maxAbsDiff(losses[i], alone[i].losses) < TOLERANCE, `job ${i}: losses per step`);
        const a = adapterTensors(job.adapter);
        const b = adapterTensors(alone[i].adapter);
        const diff = Math.max(...a.map((t, k) => maxAbsDiff(t, b[k])));
        assert.ok(diff < TOLERANCE, `job ${i} (maxRowsPerPass ${maxRowsPerPass}): max |Δ| ${diff}`);
        const moved = Math.max(...a.map((t, k) => maxAbsDiff(t, adapterTensors(jobs[i].adapter)[k])));
        assert.ok(moved > 1e-3, `job ${i}: training changed the adapter (${moved})`);
      });
    }
    assert.equal(model.adapter, null);
  });

test("one diverging adapter stops alone; the others still equal their solo runs", () => {
  const config = tinyConfig("qwen2");
  const model = tinyModel(config, 6);
  const jobs = buildJobs(config, SPECS.slice(0, 3));
  jobs[1] = { ...jobs[1], options: { ...jobs[1].options, lr: 1e38, maxGradNorm: 0 } };
  const solo = [0, 2].map((i) => {
    const adapter = cloneAdapter(jobs[i].adapter);
    trainSft(model, jobs[i].examples, { kind: "lora", adapter }, jobs[i].options);
    return adapter;
  });
  const outcomes = trainMany(model, jobs);
  const failure = outcomes[1];
  assert.ok(!failure.ok && failure.error instanceof TrainingDivergedError, "job 1 diverged");
  [0, 2].forEach((i, k) => {
    assert.ok(outcomes[i].ok);
    const a = adapterTensors(jobs[i].adapter);
    const b = adapterTensors(solo[k]);
    assert.ok(Math.max(...a.map((t, j) => maxAbsDiff(t, b[j]))) < TOLERANCE, `job ${i}`);
  });
});

test("trainMany refuses a row budget that is not a positive integer", () => {
  const config = tinyConfig("llama");
  const model = tinyModel(config, 1);
  assert.throws(() => trainMany(model, buildJobs(config, SPECS.slice(0, 1)), { maxRowsPerPass: 0 }), /maxRowsPerPass/);
});

test("an adapter trained together does not depend on its partners: two different partners of one shape, same bits", () => {
  const config = tinyConfig("llama");
  const model = tinyModel(config, 8);
  const [mine, partnerA, partnerB] = buildJobs(config, [SPECS[0], SPECS[2], SPECS[2]]);
  const other = {
    ...partnerB,
    examples: partnerA.examples.map((e) => ({ ...e, tokens: Array.from(e.tokens).reverse() })),
  };
  const trainedNext = (partner: AdapterJob) => {
    const jobs = [mine, partner].map((job) => ({ ...job, adapter: cloneAdapter(job.adapter) }));
    trainMany(model, jobs);
    return adapterTensors(jobs[0].adapter);
  };
  const a = trainedNext(partnerA);
  const b = trainedNext(other);
  a.forEach((tensor, i) => {
    assert.deepEqual(tensor, b[i], `tensor ${i}`);
  });
});

test("a step whose pass has no loss rows (so no backward) starts from zero gradients, as alone", () => {
  // the first micro-batch's backward overwrites the gradients instead of zeroing them first: a pass that runs no
  // backward must not leave the previous step's gradient in place
  const config = tinyConfig("llama");
  const model = tinyModel(config, 9);
  const rng = new Rng(21);
  const tokens = (n: number) => randomTokens(rng, n, config.vocabSize);
  const masked = tokens(6);
  const job: AdapterJob = {
    examples: [
      { tokens: tokens(7), lossMask: null },
      { tokens: masked, lossMask: masked.map(() => false) },
      { tokens: tokens(9), lossMask: null },
    ],
    adapter: createLoraAdapter(config, SPECS[0].lora, new Rng(31)),
    options: { epochs: 2, lr: 1e-2, batchSize: 1, seed: 5, shuffle: false, weightDecay: 0.1 },
  };
  const alone = cloneAdapter(job.adapter);
  trainSft(model, job.examples, { kind: "lora", adapter: alone }, job.options);
  const together = { ...job, adapter: cloneAdapter(job.adapter) };
  trainMany(model, [together]);
  const a = adapterTensors(together.adapter);
  const b = adapterTensors(alone);
  const diff = Math.max(...a.map((t, k) => maxAbsDiff(t, b[k])));
  assert.ok(diff < TOLERANCE, `max |Δ| ${diff}`);
});
