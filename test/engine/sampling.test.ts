import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/engine/random.js";
import {
  argmax,
  greedySampling,
  logSoftmaxAt,
  type SamplingParams,
  sampleToken,
  samplingDistribution,
} from "../../src/engine/sampling.js";

function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  const e = Array.from(logits, (x) => Math.exp(x / temperature - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

function logitsFromProbabilities(probabilities: number[]): Float32Array {
  return Float32Array.from(probabilities, (p) => Math.log(p));
}

function histogram(logits: Float32Array, params: SamplingParams, draws: number, seed: number): number[] {
  const rng = new Rng(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleToken(logits, params, rng)]++;
  return counts;
}

/** Each empirical frequency is within 5 binomial standard deviations (plus a little) of its probability. */
function assertMatchesDistribution(counts: number[], expected: number[], draws: number): void {
  for (let i = 0; i < expected.length; i++) {
    const p = expected[i];
    const sd = Math.sqrt((p * (1 - p)) / draws);
    const observed = counts[i] / draws;
    assert.ok(
      Math.abs(observed - p) <= 5 * sd + 1e-3,
      `token ${i}: observed ${observed.toFixed(4)}, expected ${p.toFixed(4)} (±${(5 * sd).toFixed(4)})`,
    );
  }
}

const params = (p: Partial<SamplingParams>): SamplingParams => ({ temperature: 1, topP: 1, topK: 0, ...p });

test("argmax takes the largest logit, the lowest index among ties", () => {
  assert.equal(argmax(Float32Array.of(0.1, 3, -2, 3, 1)), 1);
  assert.equal(argmax(Float32Array.of(Number.NEGATIVE_INFINITY, -5, Number.NEGATIVE_INFINITY)), 1);
  assert.equal(argmax(Float32Array.of(7)), 0);
});

test("greedy sampling picks the argmax and consumes no randomness", () => {
  const logits = Float32Array.of(0.5, 2.5, -1, 2.5, 2.4);
  const rng = new Rng(1);
  const reference = new Rng(1);
  for (let i = 0; i < 10; i++) assert.equal(sampleToken(logits, greedySampling, rng), 1);
  assert.equal(sampleToken(logits, { temperature: 0, topP: 0.5, topK: 3 }, rng), 1);
  assert.equal(rng.uniform(), reference.uniform());
});

test("a fixed seed gives the same tokens; another seed gives others", () => {
  const logits = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 2);
  const run = (seed: number, p: SamplingParams) => {
    const rng = new Rng(seed);
    return Array.from({ length: 200 }, () => sampleToken(logits, p, rng));
  };
  for (const p of [
    params({}),
    params({ topK: 40 }),
    params({ topP: 0.9 }),
    params({ temperature: 0.7, topK: 50, topP: 0.95 }),
  ]) {
    assert.deepEqual(run(42, p), run(42, p));
    assert.notDeepEqual(run(42, p), run(43, p));
  }
});

test("sampleToken consumes exactly one uniform per sampled token", () => {
  const logits = Float32Array.of(1, 2, 3, 0.5);
  for (const p of [params({}), params({ topK: 2 }), params({ topP: 0.7 }), params({ topK: 3, topP: 0.8 })]) {
    const rng = new Rng(9);
    const reference = new Rng(9);
    sampleToken(logits, p, rng);
    reference.uniform();
    assert.equal(rng.uniform(), reference.uniform());
  }
});

test("the empirical distribution matches the softmax at temperature 1 and 0.5", () => {
  const logits = Float32Array.of(1.0, 0.2, -0.5, 1.3, 0.0, -2.0, 0.7, Number.NEGATIVE_INFINITY);
  const draws = 20000;
  for (const temperature of [1, 0.5]) {
    const counts = histogram(logits, params({ temperature }), draws, 1234);
    assertMatchesDistribution(counts, softmax(logits, temperature), draws);
    assert.equal(counts[7], 0, "a -Infinity logit is never drawn");
  }
});

test("temperature above 1 flattens the distribution as the softmax of logits / T", () => {
  const logits = Float32Array.of(2, 1, 0, -1);
  const draws = 20000;
  const counts = histogram(logits, params({ temperature: 2 }), draws, 77);
  assertMatchesDistribution(counts, softmax(logits, 2), draws);
});

test("top-k = 1 equals greedy, ties included", () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 50; trial++) {
    const logits = Float32Array.from({ length: 64 }, () => Math.round(rng.normal() * 2));
    const expected = argmax(logits);
    for (let i = 0; i < 5; i++) assert.equal(sampleToken(logits, params({ topK: 1, temperature: 1.5 }), rng), expected);
  }
});

test("tokens beyond top-k are never drawn and the kept ones follow the renormalised softmax", () => {
  const logits = Float32Array.of(0.3, 2.0, -1.0, 1.5, 0.9, 1.9, -0.2, 1.0);
  const draws = 20000;
  const counts = histogram(logits, params({ topK: 3 }), draws, 99);
  const kept = [1, 5, 3];
  for (let i = 0; i < logits.length; i++) if (!kept.includes(i)) assert.equal(counts[i], 0, `token ${i} drawn`);
  const keptSoftmax = softmax(kept.map((i) => logits[i]));
  const expected = new Array<number>(logits.length).fill(0);
  kept.forEach((id, j) => {
    expected[id] = keptSoftmax[j];
  });
  assertMatchesDistribution(counts, expected, draws);
});

test("top-k keeps exactly k tokens, the lower ids among ties", () => {
  const logits = Float32Array.of(1, 2, 2, 0, 2, 2);
  const { tokens } = samplingDistribution(logits, params({ topK: 3 }));
  assert.deepEqual([...tokens], [1, 2, 4]);
  const counts = histogram(logits, params({ topK: 3 }), 3000, 3);
  assert.equal(counts[5], 0);
  assert.equal(counts[0] + counts[3], 0);
});

test("top-p keeps the smallest head whose mass reaches topP", () => {
  const logits = logitsFromProbabilities([0.15, 0.5, 0.05, 0.3]);
  const kept = (topP: number) => [...samplingDistribution(logits, params({ topP })).tokens];
  assert.deepEqual(kept(0.8), [1, 3]);
  assert.deepEqual(kept(0.81), [0, 1, 3]);
  assert.deepEqual(kept(0.95), [0, 1, 3]);
  assert.deepEqual(kept(0.96), [0, 1, 2, 3]);
  assert.deepEqual(kept(0.5), [1]);
  assert.deepEqual(kept(0.3), [1]);
  assert.deepEqual(kept(0), [1], "at least one token is always kept");

  const { probabilities } = samplingDistribution(logits, params({ topP: 0.8 }));
  assert.ok(Math.abs(probabilities[0] - 0.5 / 0.8) < 1e-6);
  assert.ok(Math.abs(probabilities[1] - 0.3 / 0.8) < 1e-6);
});

test("top-p sampling draws only from the nucleus, renormalised", () => {
  const logits = logitsFromProbabilities([0.5, 0.3, 0.15, 0.05]);
  const draws = 20000;
  const counts = histogram(logits, params({ topP: 0.8 }), draws, 2024);
  assert.equal(counts[2], 0);
  assert.equal(counts[3], 0);
  assertMatchesDistribution(counts, [0.5 / 0.8, 0.3 / 0.8, 0, 0], draws);

  const counts3 = histogram(logits, params({ topP: 0.81 }), draws, 2025);
  assert.equal(counts3[3], 0);
  assert.ok(counts3[2] > 0);
  assertMatchesDistribution(counts3, [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0], draws);
});

test("top-p applies after temperature and after top-k, on the renormalised top-k distribution", () => {
  // probabilities 0.4, 0.3, 0.2, 0.1: top-k 3 leaves 4/9, 3/9, 2/9; top-p 0.7 then needs the first two (7/9).
  const logits = logitsFromProbabilities([0.1, 0.4, 0.2, 0.3]);
  assert.deepEqual([...samplingDistribution(logits, params({ topK: 3, topP: 0.7 })).tokens], [1, 3]);
  // Without top-k, 0.4 + 0.3 = 0.7 already reaches 0.7: still two.
  assert.deepEqual([...samplingDistribution(logits, params({ topP: 0.7 })).tokens], [1, 3]);
  // With top-k 3, 4/9 + 3/9 = 0.777… falls short of 0.78 (three kept) but reaches 0.77 (two kept); without
  // top-k, 0.4 + 0.3 = 0.7 falls short of 0.77 (three kept).
  assert.deepEqual([...samplingDistribution(logits, params({ topK: 3, topP: 0.78 })).tokens], [1, 2, 3]);
  assert.deepEqual([...samplingDistribution(logits, params({ topK: 3, topP: 0.77 })).tokens], [1, 3]);
  assert.deepEqual([...samplingDistribution(logits, params({ topP: 0.77 })).tokens], [1, 2, 3]);
  // Temperature 0.5 squares and renormalises: 16/30, 9/30, 4/30, 1/30; top-p 0.8 needs 25/30 ≈ 0.833: two.
  assert.deepEqual([...samplingDistribution(logits, params({ temperature: 0.5, topP: 0.8 })).tokens], [1, 3]);
  // At temperature 2 the probabilities flatten (√p): the first two hold ≈ 0.61 of the mass, 0.8 needs three.
  assert.deepEqual([...samplingDistribution(logits, params({ temperature: 2, topP: 0.8 })).tokens], [1, 2, 3]);
});

test("samplingDistribution without filters is the softmax over tokens with weight", () => {
  const logits = Float32Array.of(0.5, Number.NEGATIVE_INFINITY, -1, 2);
  const { tokens, probabilities } = samplingDistribution(logits, params({ temperature: 0.8 }));
  assert.deepEqual([...tokens], [0, 2, 3]);
  const expected = softmax([0.5, -1, 2], 0.8);
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(probabilities[j] - expected[j]) < 1e-12);
});

test("the top-p selection agrees with a sort-based reference on random logits", () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 200; trial++) {
    // Mostly small rows; every eighth is large enough for the quickselect top-k and the boundary-described sets.
    const n = trial % 8 === 7 ? 2000 + rng.int(3000) : 1 + rng.int(300);
    const spread = [0.1, 1, 3, 10][trial % 4];
    const logits = Float32Array.from({ length: n }, () => Math.round(rng.normal() * spread * 4) / 4);
    if (trial % 5 === 0) for (let i = 0; i < n; i += 7) logits[i] = Number.NEGATIVE_INFINITY;
    if (logits.every((x) => x === Number.NEGATIVE_INFINITY)) logits[0] = 0;
    const temperature = [0.3, 1, 1.7][trial % 3];
    const topP = rng.uniform();
    const topK = trial % 2 === 0 ? 0 : 1 + rng.int(n);

    // Reference: sort (logit desc, id asc), cut top-k, then keep while the mass before < topP.
    const order = Array.from({ length: n }, (_, i) => i)
      .filter((i) => logits[i] > Number.NEGATIVE_INFINITY)
      .sort((a, b) => logits[b] - logits[a] || a - b);
    const head = topK > 0 ? order.slice(0, topK) : order;
    const max = logits[head[0]];
    const weights = head.map((i) => Math.exp((logits[i] - max) / temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    const expected: number[] = [];
    let before = 0;
    for (let j = 0; j < head.length; j++) {
      if (j > 0 && before >= (topP - 1e-6) * total) break;
      if (weights[j] > 0) expected.push(head[j]);
      before += weights[j];
    }
    expected.sort((a, b) => a - b);
    const { tokens } = samplingDistribution(logits, { temperature, topP, topK });
    assert.deepEqual([...tokens], expected, `trial ${trial}: n=${n} topP=${topP} topK=${topK} T=${temperature}`);
  }
});

test("sampleToken draws by inverse CDF over samplingDistribution, with one uniform", () => {
  const rng = new Rng(31);
  for (let trial = 0; trial < 60; trial++) {
    const n = [10, 300, 5000][trial % 3];
    const logits = Float32Array.from({ length: n }, () => rng.normal() * (trial % 2 === 0 ? 1 : 4));
    const p = params({
      temperature: [0.5, 1, 1.3][trial % 3],
      topP: [1, 0.99, 0.7][(trial % 5) % 3],
      topK: [0, 5, 3000][(trial % 7) % 3],
    });
    const { tokens, probabilities } = samplingDistribution(logits, p);
    const sampler = new Rng(1000 + trial);
    const reference = new Rng(1000 + trial);
    for (let draw = 0; draw < 20; draw++) {
      const u = reference.uniform();
      let j = 0;
      let cumulative = probabilities[0];
      while (u >= cumulative && j < tokens.length - 1) cumulative += probabilities[++j];
      assert.equal(sampleToken(logits, p, sampler), tokens[j], `trial ${trial} draw ${draw}`);
    }
  }
});

test("a 151,936-token vocabulary samples with every combination of filters", () => {
  const vocab = 151936;
  const rng = new Rng(2026);
  const flat = new Float32Array(vocab);
  rng.fillNormal(flat, 1);
  const peaked = new Float32Array(vocab);
  rng.fillNormal(peaked, 3);
  peaked[12345] = 40;
  peaked[777] = 39;
  peaked[151935] = 38.5;
  const settings: SamplingParams[] = [
    greedySampling,
    params({}),
    params({ topK: 50 }),
    params({ topP: 0.9 }),
    params({ temperature: 0.7, topK: 50, topP: 0.95 }),
    params({ topK: 100000 }),
    params({ topK: 20, topP: 0.5 }),
  ];
  for (const logits of [flat, peaked]) {
    for (const p of settings) {
      const counts = new Map<number, number>();
      for (let i = 0; i < 20; i++) {
        const token = sampleToken(logits, p, rng);
        assert.ok(Number.isInteger(token) && token >= 0 && token < vocab);
        counts.set(token, (counts.get(token) ?? 0) + 1);
      }
      if (p.topK > 0) {
        const kth = Float32Array.from(logits).sort()[vocab - p.topK];
        for (const token of counts.keys())
          assert.ok(logits[token] >= kth, `token ${token} is outside the top-${p.topK}`);
      }
      if (logits === peaked && p.temperature > 0) {
        for (const token of counts.keys()) assert.ok([12345, 777, 151935].includes(token), `unlikely token ${token}`);
      }
    }
  }
  // The flat case with topP 0.9 needs most of the vocabulary in the nucleus.
  const { tokens } = samplingDistribution(flat, params({ topP: 0.9 }));
  assert.ok(tokens.length > 50000 && tokens.length < vocab, `nucleus of ${tokens.length}`);
});

test("non-finite logits: -Infinity never sampled, NaN and all -Infinity rejected", () => {
  const rng = new Rng(8);
  const logits = Float32Array.of(Number.NEGATIVE_INFINITY, 0, Number.NEGATIVE_INFINITY, 0.1);
  for (let i = 0; i < 500; i++) {
    for (const p of [params({}), params({ topK: 3 }), params({ topP: 0.99 }), params({ topK: 4, topP: 0.999 })]) {
      const t = sampleToken(logits, p, rng);
      assert.ok(t === 1 || t === 3);
    }
  }
  const allMinus = Float32Array.of(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY);
  assert.throws(() => sampleToken(allMinus, params({}), rng), /all 2 logits are -Infinity/);
  assert.throws(() => sampleToken(allMinus, greedySampling, rng), /-Infinity/);
  assert.throws(() => argmax(allMinus), /-Infinity/);
  const withNaN = Float32Array.of(0, Number.NaN, 1);
  assert.throws(() => sampleToken(withNaN, params({}), rng), /logits\[1\] is NaN/);
  assert.throws(() => sampleToken(withNaN, greedySampling, rng), /NaN/);
  assert.throws(() => argmax(withNaN), /NaN/);
  assert.throws(() => sampleToken(Float32Array.of(0, Number.POSITIVE_INFINITY), params({}), rng), /\+Infinity/);
  assert.throws(() => sampleToken(new Float32Array(0), params({}), rng), /empty/);
});

test("invalid sampling parameters are rejected", () => {
  const rng = new Rng(1);
  const logits = Float32Array.of(1, 2);
  assert.throws(() => sampleToken(logits, params({ temperature: -1 }), rng), /temperature/);
  assert.throws(() => sampleToken(logits, params({ temperature: Number.NaN }), rng), /temperature/);
  assert.throws(() => sampleToken(logits, params({ topP: 1.5 }), rng), /topP/);
  assert.throws(() => sampleToken(logits, params({ topP: Number.NaN }), rng), /topP/);
  assert.throws(() => sampleToken(logits, params({ topK: 2.5 }), rng), /topK/);
  assert.throws(() => sampleToken(logits, params({ topK: -1 }), rng), /topK/);
});

test("logSoftmaxAt matches log of the softmax", () => {
  const logits = Float32Array.of(1, -2, 0.5, Number.NEGATIVE_INFINITY, 3);
  const p = softmax([1, -2, 0.5, Number.NEGATIVE_INFINITY, 3]);
  for (const i of [0, 1, 2, 4]) assert.ok(Math.abs(logSoftmaxAt(logits, i) - Math.log(p[i])) < 1e-12);
  assert.equal(logSoftmaxAt(logits, 3), Number.NEGATIVE_INFINITY);
  assert.throws(() => logSoftmaxAt(logits, 5), /outside/);
});
