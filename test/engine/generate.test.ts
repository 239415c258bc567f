import assert from "node:assert/strict";
import { test } from "node:test";
import { contextOverflow, generate } from "../../src/engine/generate.js";
import { KvCache } from "../../src/engine/kv-cache.js";
import { adapterTensors, createLoraAdapter } from "../../src/engine/lora.js";
import { Rng } from "../../src/engine/random.js";
import { argmax } from "../../src/engine/sampling.js";
import { randomTokens, tinyConfig, tinyModel } from "./tiny-model.js";

const config = tinyConfig("qwen2");
const model = tinyModel(config, 21, 0.4);
const prompts = [
  randomTokens(new Rng(1), 5, config.vocabSize),
  randomTokens(new Rng(2), 9, config.vocabSize),
  randomTokens(new Rng(3), 2, config.vocabSize),
];

test("greedy generation equals repeated argmax of full forwards", () => {
  const [result] = generate(model, [prompts[1]], { temperature: 0, maxNewTokens: 8 });
  const sequence = [...prompts[1]];
  const V = config.vocabSize;
  for (let i = 0; i < 8; i++) {
    const logits = model.logits([sequence])[0];
    sequence.push(argmax(logits.subarray((sequence.length - 1) * V, sequence.length * V)));
  }
  assert.deepEqual(result.tokens, sequence.slice(prompts[1].length));
  assert.equal(result.finishReason, "length");
});

test("sampling is reproducible and independent of batch size and order of admission", () => {
  const options = { temperature: 1, topP: 0.9, maxNewTokens: 6, n: 3, seed: 42 };
  const wide = generate(model, prompts, { ...options, maxBatch: 16 });
  const narrow = generate(model, prompts, { ...options, maxBatch: 3 });
  const again = generate(model, prompts, { ...options, maxBatch: 16 });
  assert.equal(wide.length, 9);
  assert.deepEqual(
    wide.map((g) => g.tokens),
    narrow.map((g) => g.tokens),
  );
  assert.deepEqual(wide, again);
  const otherSeed = generate(model, prompts, { ...options, seed: 43 });
  assert.notDeepEqual(
    otherSeed.map((g) => g.tokens),
    wide.map((g) => g.tokens),
  );
  // the n samples of a prompt differ from each other (they share only the prefill)
  const firstPrompt = wide.filter((g) => g.promptIndex === 0).map((g) => g.tokens.join(","));
  assert.ok(new Set(firstPrompt).size > 1);
});

test("greedy results of a prompt do not depend on the other prompts decoded with it", () => {
  const options = { temperature: 0, maxNewTokens: 5, n: 2 };
  const together = generate(model, prompts, options);
  const alone = generate(model, [prompts[2]], options);
  assert.equal(together.length, 6);
  assert.deepEqual(
    together.filter((g) => g.promptIndex === 2).map((g) => g.tokens),
    alone.map((g) => g.tokens),
  );
});

test("stop token ids and stop strings end generation", () => {
  const [free] = generate(model, [prompts[0]], { temperature: 0, maxNewTokens: 10 });
  const stopId = free.tokens[3];
  const firstStop = free.tokens.indexOf(stopId);
  const [stopped] = generate(model, [prompts[0]], { temperature: 0, maxNewTokens: 10, stopTokenIds: [stopId] });
  assert.equal(stopped.finishReason, "stop_token");
  assert.deepEqual(stopped.tokens, free.tokens.slice(0, firstStop + 1));

  const decode = (ids: number[]) => ids.map((id) => `<${id}>`).join("");
  const target = `<${free.tokens[2]}>`;
  const [byString] = generate(model, [prompts[0]], { temperature: 0, maxNewTokens: 10, stopStrings: [target], decode });
  assert.equal(byString.finishReason, "stop_string");
  const fullText = decode(free.tokens);
  assert.equal(byString.text, fullText.slice(0, fullText.indexOf(target)));
});

test("bad generation options are rejected", () => {
  assert.throws(() => generate(model, [[]], {}), /prompt 0 is empty/);
  assert.throws(() => generate(model, [[1]], { n: 0 }), /n must be/);
  assert.throws(() => generate(model, [[1]], { stopStrings: ["x"] }), /decode/);
});

test("a prompt plus maxNewTokens beyond max_position_embeddings is refused, stopped at the context, or extrapolated", () => {
  const short = tinyModel(tinyConfig("qwen2", { maxPositionEmbeddings: 16 }), 21, 0.4);
  const prompt = randomTokens(new Rng(4), 10, config.vocabSize);
  const options = { temperature: 0, maxNewTokens: 10 };
  assert.throws(
    () => generate(short, [prompts[2], prompt], options),
    /^Error: prompt 1: 10 prompt tokens \+ 10 new tokens exceed the model's max_position_embeddings 16 \(at most 6 new tokens fit after it\)/,
  );
  const [stopped] = generate(short, [prompt], { ...options, beyondContext: "stop" });
  assert.equal(stopped.tokens.length, 6, "prompt + new tokens end at the context's last position");
  assert.equal(stopped.finishReason, "length");
  const [extrapolated] = generate(short, [prompt], { ...options, beyondContext: "extrapolate" });
  assert.equal(extrapolated.tokens.length, 10);
  assert.deepEqual(extrapolated.tokens.slice(0, 6), stopped.tokens, "same tokens up to the context's end");
  // "stop" still refuses a prompt that fills the context alone.
  const full = randomTokens(new Rng(5), 16, config.vocabSize);
  assert.throws(
    () => generate(short, [full], { ...options, beyondContext: "stop" }),
    /16 prompt tokens \+ 1 new tokens exceed .* \(the prompt alone fills the context\)/,
  );
  assert.equal(contextOverflow(16, [10, 6], 6), null, "exactly filling the context is fine");
});

test("a KV cache larger than the machine's memory is refused before it is allocated", () => {
  assert.throws(
    () => new KvCache(config, 1_000_000, 1_000_000),
    /^Error: the KV cache for 1000000 sequences of 1000000 positions needs \d+\.\d GiB, more than this machine's/,
  );
});

test("per-prompt adapters in one batch give what each adapter gives alone (greedy and sampled)", () => {
  const rng = new Rng(40);
  const adapters = [0, 1, 2].map((i) => {
    const adapter = createLoraAdapter(
      config,
      { rank: 2 + 2 * i, alpha: 8, dropout: 0.1, targets: i === 1 ? ["q_proj", "down_proj"] : ["v_proj", "up_proj"] },
      new Rng(50 + i),
    );
    for (const tensor of adapterTensors(adapter))
      for (let k = 0; k < tensor.length; k++) tensor[k] = rng.normal() * 0.5;
    return adapter;
  });
  const many = Array.from({ length: 7 }, (_, i) => randomTokens(new Rng(60 + i), 2 + i, config.vocabSize));
  const assigned = [adapters[0], null, adapters[1], adapters[2], adapters[0], adapters[1], null];
  for (const sampling of [{ temperature: 0 }, { temperature: 1, seed: 3, n: 2 }]) {
    const options = { ...sampling, maxNewTokens: 6, maxBatch: 5 };
    const together = generate(model, many, { ...options, adapters: assigned });
    for (const adapter of [null, ...adapters]) {
      model.adapter = adapter;
      const alone = generate(model, many, options);
      model.adapter = null;
      const mine = (g: { promptIndex: number }) => assigned[g.promptIndex] === adapter;
      assert.deepEqual(
        together.filter(mine).map((g) => g.tokens),
        alone.filter(mine).map((g) => g.tokens),
        `adapter ${adapter ? adapters.indexOf(adapter) : "none"}, temperature ${sampling.temperature}`,
      );
    }
    const base = generate(model, many, options);
    assert.notDeepEqual(
      together.map((g) => g.tokens),
      base.map((g) => g.tokens),
      "the adapters change what is generated",
    );
  }
});
