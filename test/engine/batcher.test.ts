import assert from "node:assert/strict";
import { test } from "node:test";
import { ContinuousBatcher } from "../../src/engine/batcher.js";
import { PROJECTIONS } from "../../src/engine/config.js";
import { generate } from "../../src/engine/generate.js";
import { createLoraAdapter } from "../../src/engine/lora.js";
import { Rng } from "../../src/engine/random.js";
import { InvalidRequestError, type SampleGeneration, TextStream } from "../../src/engine/request.js";
import { randomTokens, tinyConfig, tinyModel } from "./tiny-model.js";

const config = tinyConfig("qwen2", { maxPositionEmbeddings: 64 });
const model = tinyModel(config, 21, 0.4);
const prompts = [5, 9, 2, 7].map((length, i) => randomTokens(new Rng(i + 1), length, config.vocabSize));
const sampling = { temperature: 1, topP: 0.9, maxNewTokens: 10, n: 2 };

/** Runs the batcher until nothing is left; returns how many forwards it took. */
function drain(batcher: ContinuousBatcher): number {
  let steps = 0;
  while (batcher.step()) steps++;
  assert.ok(batcher.idle);
  return steps;
}

function tokensOf(generations: SampleGeneration[]): number[][] {
  return generations.map((g) => g.tokens);
}

test("a request gives the same tokens alone, batched with others, and from generate()", async () => {
  const alone = new ContinuousBatcher(model, { maxBatch: 4, decode: null });
  const single = alone.submit(prompts[1], { ...sampling, seed: 7 });
  drain(alone);

  const crowded = new ContinuousBatcher(model, { maxBatch: 8, decode: null });
  const handles = prompts.map((prompt, i) => crowded.submit(prompt, { ...sampling, seed: i === 1 ? 7 : 99 + i }));
  drain(crowded);

  const expected = tokensOf(await single.done);
  assert.deepEqual(tokensOf(await handles[1].done), expected);
  assert.deepEqual(
    generate(model, [prompts[1]], { ...sampling, seed: 7 }).map((g) => g.tokens),
    expected,
  );
  // the batch was really shared: 4 requests × 2 samples decoded in one forward per token
  assert.equal(crowded.generatedTokens, 4 * 2 * 10);
});

test("a request submitted while another decodes joins the running batch with identical results", async () => {
  const reference = new ContinuousBatcher(model, { maxBatch: 4, decode: null });
  const aloneA = reference.submit(prompts[0], { ...sampling, seed: 1 });
  drain(reference);
  const aloneB = reference.submit(prompts[3], { ...sampling, seed: 2 });
  drain(reference);

  const batcher = new ContinuousBatcher(model, { maxBatch: 4, decode: null });
  const a = batcher.submit(prompts[0], { ...sampling, seed: 1 });
  for (let i = 0; i < 4; i++) assert.ok(batcher.step());
  assert.deepEqual([batcher.running, batcher.liveSequences], [1, 2]);
  const b = batcher.submit(prompts[3], { ...sampling, seed: 2 });
  assert.equal(batcher.waiting, 1);
  batcher.step(); // B's prefill, while A is mid-decode
  assert.deepEqual([batcher.running, batcher.waiting, batcher.liveSequences], [2, 0, 4]);
  drain(batcher);
  assert.deepEqual(tokensOf(await a.done), tokensOf(await aloneA.done));
  assert.deepEqual(tokensOf(await b.done), tokensOf(await aloneB.done));
});

test("a request waits for free slots, then takes the slots a finished one freed", async () => {
  const batcher = new ContinuousBatcher(model, { maxBatch: 2, decode: null });
  const first = batcher.submit(prompts[0], { ...sampling, seed: 3 });
  const second = batcher.submit(prompts[2], { ...sampling, seed: 4 });
  batcher.step();
  assert.deepEqual([batcher.running, batcher.waiting], [1, 1]);
  drain(batcher);
  const [alone] = generate(model, [prompts[2]], { ...sampling, seed: 4, n: 1 });
  assert.deepEqual((await second.done)[0].tokens, alone.tokens);
  assert.equal((await first.done).length, 2);
});

test("cancel ends a waiting request before it starts and a running one at once, freeing its slots", async () => {
  const batcher = new ContinuousBatcher(model, { maxBatch: 2, decode: (ids) => ids.join(" ") });
  const started: number[] = [];
  const running = batcher.submit(prompts[0], { ...sampling, seed: 5 }, { onStart: () => started.push(0) });
  const waiting = batcher.submit(prompts[1], { ...sampling, seed: 6 }, { onStart: () => started.push(1) });
  const after = batcher.submit(prompts[2], { ...sampling, seed: 8, n: 1 });
  batcher.step();
  batcher.step();
  batcher.step();
  waiting.cancel();
  const cancelledWaiting = await waiting.done;
  assert.deepEqual(
    cancelledWaiting.map((g) => [g.finishReason, g.tokens.length, g.text]),
    [
      ["cancelled", 0, ""],
      ["cancelled", 0, ""],
    ],
  );
  running.cancel();
  const cancelledRunning = await running.done;
  assert.deepEqual(
    cancelledRunning.map((g) => [g.finishReason, g.tokens.length]),
    [
      ["cancelled", 3],
      ["cancelled", 3],
    ],
  );
  assert.equal(cancelledRunning[0].text, cancelledRunning[0].tokens.join(" "));
  assert.deepEqual([batcher.running, batcher.waiting, batcher.liveSequences], [0, 1, 0]);
  drain(batcher);
  assert.deepEqual(started, [0], "the cancelled waiting request never started");
  const [alone] = generate(model, [prompts[2]], { ...sampling, seed: 8, n: 1 });
  assert.deepEqual((await after.done)[0].tokens, alone.tokens);
  running.cancel(); // a finished request: nothing happens
});

test("a cancel from inside a callback takes effect after the step", async () => {
  const batcher = new ContinuousBatcher(model, { maxBatch: 4, decode: null });
  let tokens = 0;
  const handle = batcher.submit(
    prompts[0],
    { ...sampling, seed: 5, n: 1 },
    {
      onToken: () => {
        if (++tokens === 2) handle.cancel();
      },
    },
  );
  drain(batcher);
  const [result] = await handle.done;
  assert.deepEqual([result.finishReason, result.tokens.length], ["cancelled", 2]);
});

test("setAdapter drains the running requests on the old weights, then serves the new adapter", async () => {
  const local = tinyModel(config, 21, 0.4);
  const adapter = createLoraAdapter(config, { rank: 4, alpha: 8, dropout: 0, targets: [...PROJECTIONS] }, new Rng(3));
  const rng = new Rng(4);
  for (const layer of adapter.layers) for (const pair of Object.values(layer)) rng.fillNormal(pair.b, 0.5);
  const options = { ...sampling, seed: 11, n: 1 };
  const base = generate(local, [prompts[0], prompts[1]], options).map((g) => g.tokens);
  local.adapter = adapter;
  const adapted = generate(local, [prompts[0], prompts[1]], options).map((g) => g.tokens);
  local.adapter = null;
  assert.notDeepEqual(adapted, base, "the adapter changes the output");

  const batcher = new ContinuousBatcher(local, { maxBatch: 4, decode: null });
  const adapters: unknown[] = [];
  const old = batcher.submit(prompts[0], options, { onStart: (info) => adapters.push(info.adapter) });
  batcher.step();
  batcher.step();
  let swapped = false;
  const swap = batcher.setAdapter(adapter).then(() => {
    swapped = true;
  });
  const next = batcher.submit(prompts[1], { ...options, promptIndex: 1 }, { onStart: (i) => adapters.push(i.adapter) });
  batcher.step();
  await Promise.resolve();
  assert.equal(swapped, false);
  assert.equal(local.adapter, null, "the old weights serve until the running request ends");
  assert.deepEqual([batcher.running, batcher.waiting], [1, 1], "nothing is admitted during the switch");
  drain(batcher);
  await swap;
  assert.equal(local.adapter, adapter);
  assert.deepEqual(adapters, [null, adapter]);
  assert.deepEqual((await old.done)[0].tokens, base[0]);
  assert.deepEqual((await next.done)[0].tokens, adapted[1]);

  // idle: the switch is immediate
  await batcher.setAdapter(null);
  assert.equal(local.adapter, null);
});

test("stop strings cut the text, and the streamed deltas never show part of one", async () => {
  const decode = (ids: number[]) => ids.map((id) => `<${id}>`).join("");
  const [free] = generate(model, [prompts[0]], { temperature: 0, maxNewTokens: 12 });
  const target = `<${free.tokens[4]}>`;
  const batcher = new ContinuousBatcher(model, { maxBatch: 2, decode });
  const deltas: string[] = [];
  const handle = batcher.submit(
    prompts[0],
    { temperature: 0, maxNewTokens: 12, stopStrings: [target, "never"] },
    { onToken: (_, __, delta) => deltas.push(delta) },
  );
  drain(batcher);
  const [result] = await handle.done;
  const fullText = decode(free.tokens);
  assert.equal(result.finishReason, "stop_string");
  assert.equal(result.text, fullText.slice(0, fullText.indexOf(target)));
  assert.equal(deltas.join(""), result.text);
  assert.equal(deltas.length, result.tokens.length, "one onToken per token");
  for (const delta of deltas) assert.ok(!delta.includes("<") || delta.endsWith(">"), `whole pieces only: ${delta}`);
});

/** "aé€😀" as UTF-8 bytes: tokens are single bytes, so characters span tokens. */
const BYTES = [...new TextEncoder().encode("aé€😀 ")];
const byteDecode = (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids, (id) => BYTES[id % BYTES.length]));

test("streamed deltas never split a UTF-8 character and add up to the final text", async () => {
  const stream = new TextStream();
  const bytes = [...new TextEncoder().encode("h€llo 😀 wörld")];
  const deltas: string[] = [];
  for (let i = 1; i <= bytes.length; i++)
    deltas.push(stream.next(new TextDecoder().decode(Uint8Array.from(bytes.slice(0, i)))));
  deltas.push(stream.finish("h€llo 😀 wörld"));
  assert.equal(deltas.join(""), "h€llo 😀 wörld");
  for (const delta of deltas) assert.ok(!delta.includes("\ufffd"), JSON.stringify(deltas));
  assert.ok(deltas.includes("€") && deltas.includes("😀"), "a multi-byte character arrives whole");

  // through the batcher, with random byte tokens (some sequences are invalid UTF-8 for good)
  const batcher = new ContinuousBatcher(model, { maxBatch: 8, decode: byteDecode });
  const streamed = new Map<string, string>();
  const handles = prompts.map((prompt, p) =>
    batcher.submit(
      prompt,
      { temperature: 1, maxNewTokens: 24, n: 2, seed: p },
      {
        onToken: (s, _, delta) => {
          const key = `${p}/${s}`;
          const text = (streamed.get(key) ?? "") + delta;
          streamed.set(key, text);
          // a held-back character completes later: no delta ends inside a surrogate pair
          assert.ok(!/[\ud800-\udbff]$/.test(delta));
        },
      },
    ),
  );
  drain(batcher);
  for (const [p, handle] of handles.entries())
    for (const g of await handle.done) {
      assert.equal(g.text, byteDecode(g.tokens));
      assert.equal(streamed.get(`${p}/${g.sampleIndex}`), g.text);
    }
});

test("invalid requests are refused at submit, naming the field", () => {
  const batcher = new ContinuousBatcher(model, { maxBatch: 2, decode: null });
  const refused = (prompt: number[], options: object, field: string, pattern: RegExp) =>
    assert.throws(
      () => batcher.submit(prompt, options),
      (error: unknown) => error instanceof InvalidRequestError && error.field === field && pattern.test(error.message),
    );
  refused([], {}, "prompt", /empty/);
  refused([1], { n: 3 }, "n", /exceeds the 2 sequences/);
  refused([1], { maxNewTokens: 0 }, "maxNewTokens", /≥ 1/);
  refused([1], { temperature: -1 }, "temperature", /temperature/);
  refused([1], { topP: 2 }, "topP", /topP/);
  refused([1], { stopStrings: ["x"] }, "stopStrings", /decode/);
  refused([1000], {}, "prompt", /outside the vocabulary/);
  refused([1, 2, 3], { maxNewTokens: 62 }, "maxNewTokens", /3 prompt tokens \+ 62 new tokens exceed .* 64/);
  refused(randomTokens(new Rng(1), 64, config.vocabSize), { beyondContext: "stop" }, "prompt", /fills the context/);
  assert.ok(batcher.idle);
});

test("the KV cache grows for a longer request while others decode, keeping their cached positions", async () => {
  const batcher = new ContinuousBatcher(model, { maxBatch: 3, decode: null });
  const short = batcher.submit(prompts[2], { ...sampling, seed: 1, n: 1, maxNewTokens: 4 });
  batcher.step();
  const long = batcher.submit(prompts[1], { ...sampling, seed: 2, n: 1, maxNewTokens: 40 });
  drain(batcher);
  assert.deepEqual(
    (await short.done)[0].tokens,
    generate(model, [prompts[2]], { ...sampling, seed: 1, n: 1, maxNewTokens: 4 })[0].tokens,
  );
  assert.deepEqual(
    (await long.done)[0].tokens,
    generate(model, [prompts[1]], { ...sampling, seed: 2, n: 1, maxNewTokens: 40 })[0].tokens,
  );
});

test("a failing forward rejects the requests involved and the batcher goes on", async () => {
  const local = tinyModel(config, 21, 0.4);
  const batcher = new ContinuousBatcher(local, { maxBatch: 2, decode: null });
  const errors: string[] = [];
  const doomed = batcher.submit(prompts[0], { ...sampling, seed: 1 }, { onError: (e) => errors.push(e.message) });
  const original = local.weights.finalNorm[0];
  local.weights.finalNorm.fill(Number.NaN);
  assert.throws(() => batcher.step(), /NaN/);
  await assert.rejects(doomed.done, /NaN/);
  assert.equal(errors.length, 1);
  local.weights.finalNorm.fill(original);
  assert.deepEqual([batcher.running, batcher.waiting, batcher.liveSequences], [0, 0, 0]);
  const later = batcher.submit(prompts[0], { ...sampling, seed: 1 });
  drain(batcher);
  assert.equal((await later.done).length, 2);
});
