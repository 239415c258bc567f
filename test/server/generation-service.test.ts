/** The generation service with its real worker thread on the shipped SEAL-mini model. */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PROJECTIONS } from "../../src/engine/config.js";
import { generate } from "../../src/engine/generate.js";
import { createLoraAdapter } from "../../src/engine/lora.js";
import { Model } from "../../src/engine/model.js";
import { Rng } from "../../src/engine/random.js";
import { baseModelFingerprint } from "../../src/io/base-fingerprint.js";
import { loadModel, saveModel } from "../../src/io/model-files.js";
import { saveAdapter } from "../../src/io/peft.js";
import { createRandomModel } from "../../src/io/random-model.js";
import { loadTokenizer } from "../../src/io/tokenizer.js";
import { type RunningGenerationService, startGenerationService } from "../../src/server/generation/client.js";
import { GenerationError, type GenerationRequest, QueueFullError } from "../../src/server/generation/types.js";

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test/server → the repository root
const MODEL_DIR = path.resolve(here, "../../../models/seal-mini");
const PROMPT = "Question: Where was Alice Pexmomdur born?\nAnswer:";

const loaded = loadModel(MODEL_DIR);
const model = new Model(loaded.config, loaded.weights);
const tokenizer = loadTokenizer(MODEL_DIR);
const stopTokenIds = [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])];
const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });

function request(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return { prompt: PROMPT, maxTokens: 24, temperature: 1, topP: 1, n: 1, seed: 0, stop: [], ...overrides };
}

/** What the engine gives in this thread for the same request. */
function expectedTexts(req: GenerationRequest): string[] {
  return generate(model, [tokenizer.encode(req.prompt)], {
    temperature: req.temperature,
    topP: req.topP,
    maxNewTokens: req.maxTokens,
    n: req.n,
    seed: req.seed,
    stopTokenIds,
    stopStrings: req.stop,
    decode,
  }).map((g) => g.text ?? "");
}

let tmp: string;
/** SEAL-mini answers in a few tokens; its untrained twin (same shapes and tokenizer) rarely samples EOS. */
let randomDir: string;
let service: RunningGenerationService;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "seal-generation-"));
  randomDir = path.join(tmp, "random-mini");
  saveModel(randomDir, { config: loaded.config, weights: createRandomModel(loaded.config, 1) });
  for (const file of ["tokenizer.json", "tokenizer_config.json"])
    fs.copyFileSync(path.join(MODEL_DIR, file), path.join(randomDir, file));
  service = await startGenerationService({ modelDir: MODEL_DIR, adapterDir: null, maxBatch: 8, maxQueue: 16 });
});

after(async () => {
  await service.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("the service reports the model and answers concurrent requests as the engine does alone", async () => {
  assert.equal(service.modelId, "seal-mini");
  assert.equal(service.contextLength, loaded.config.maxPositionEmbeddings);
  const requests = [0, 1, 2, 3, 4, 5].map((seed) => request({ seed, temperature: 0.8, n: seed % 2 === 0 ? 1 : 2 }));
  const handles = requests.map((req) => service.submit(req));
  assert.equal(new Set(handles.map((h) => h.id)).size, handles.length);
  const results = await Promise.all(handles.map((h) => h.done));
  for (const [i, result] of results.entries()) {
    assert.equal(result.promptTokens, tokenizer.encode(PROMPT).length);
    assert.equal(result.adapter, null);
    assert.deepEqual(
      result.choices.map((c) => c.text),
      expectedTexts(requests[i]),
    );
    for (const choice of result.choices) {
      assert.ok(["stop", "length"].includes(choice.finishReason));
      assert.ok(choice.completionTokens >= 1 && choice.completionTokens <= 24);
    }
  }
  const stats = service.stats();
  assert.deepEqual([stats.running, stats.queued, stats.adapter], [0, 0, null]);
  assert.ok(stats.generatedTokens > 0);
});

test("streamed deltas add up to each choice's final text, and stop strings cut it", async () => {
  const [free] = expectedTexts(request({ temperature: 0, maxTokens: 40 }));
  const stop = free.trim().split(/\s+/)[1] ?? free.trim().slice(1, 3);
  assert.ok(stop.length > 0 && free.includes(stop), `stop string ${JSON.stringify(stop)} in ${JSON.stringify(free)}`);
  const req = request({ temperature: 0.9, maxTokens: 40, n: 3, seed: 7, stop: [stop] });
  const streamed = ["", "", ""];
  const ended: string[] = [];
  let started = 0;
  const handle = service.submit(req, {
    onStart: ({ promptTokens }) => {
      started++;
      assert.equal(promptTokens, tokenizer.encode(PROMPT).length);
    },
    onDelta: (index, text) => {
      assert.ok(text.length > 0);
      streamed[index] += text;
    },
    onChoiceEnd: (index, reason) => ended.push(`${index}:${reason}`),
  });
  const result = await handle.done;
  assert.equal(started, 1);
  assert.equal(ended.length, 3);
  assert.deepEqual(
    streamed,
    result.choices.map((c) => c.text),
  );
  assert.deepEqual(
    result.choices.map((c) => c.text),
    expectedTexts(req),
  );
  for (const choice of result.choices) assert.ok(!choice.text.includes(stop));

  const greedy = await service.submit(request({ temperature: 0, maxTokens: 40, stop: [stop] })).done;
  assert.equal(greedy.choices[0].finishReason, "stop");
  assert.equal(greedy.choices[0].text, free.slice(0, free.indexOf(stop)));
});

test("invalid requests reject with a GenerationError naming the field", async () => {
  const invalid = async (req: GenerationRequest, field: string, pattern: RegExp) => {
    await assert.rejects(service.submit(req).done, (error: unknown) => {
      assert.ok(error instanceof GenerationError);
      assert.deepEqual([error.kind, error.field], ["invalid", field]);
      assert.match(error.message, pattern);
      return true;
    });
  };
  await invalid(request({ prompt: "" }), "prompt", /empty/);
  await invalid(request({ maxTokens: 5000 }), "max_tokens", /exceed the model's max_position_embeddings 1024/);
  await invalid(request({ prompt: "word ".repeat(1100) }), "prompt", /fills the context/);
  await invalid(request({ temperature: -1 }), "temperature", /temperature/);
  await invalid(request({ topP: 1.5 }), "top_p", /topP/);
  await invalid(request({ n: 9 }), "n", /exceeds the 8 sequences/);
  await invalid(request({ stop: [""] }), "stop", /non-empty/);
  assert.deepEqual([service.stats().running, service.stats().queued], [0, 0]);
});

test("one decoding + maxQueue waiting, then QueueFullError at once; cancel ends a request with 'cancelled'", async () => {
  const small = await startGenerationService({ modelDir: randomDir, adapterDir: null, maxBatch: 1, maxQueue: 2 });
  try {
    const first = small.submit(request({ maxTokens: 400, temperature: 1, seed: 1 }));
    const second = small.submit(request({ maxTokens: 400, seed: 2 }));
    const third = small.submit(request({ maxTokens: 400, seed: 3 }));
    assert.throws(
      () => small.submit(request()),
      (error: unknown) => error instanceof QueueFullError && error.limit === 2,
    );
    first.cancel();
    second.cancel();
    third.cancel();
    const results = await Promise.all([first.done, second.done, third.done]);
    for (const result of results) assert.equal(result.choices[0].finishReason, "cancelled");
    assert.equal(results[1].choices[0].completionTokens, 0, "cancelled while waiting: it never started");
    const after = await small.submit(request({ maxTokens: 4 })).done;
    assert.equal(after.choices.length, 1);
  } finally {
    await small.close();
  }
});

test("setAdapter loads a saved PEFT adapter: later requests run on it and report it", async () => {
  const adapter = createLoraAdapter(
    loaded.config,
    { rank: 4, alpha: 8, dropout: 0, targets: [...PROJECTIONS] },
    new Rng(5),
  );
  const rng = new Rng(6);
  for (const layer of adapter.layers) for (const pair of Object.values(layer)) rng.fillNormal(pair.b, 0.5);
  const dir = path.join(tmp, "adapter");
  saveAdapter(dir, adapter, { baseFingerprint: baseModelFingerprint(loaded.config, loaded.weights) });
  const req = request({ temperature: 0, maxTokens: 24 });
  const base = await service.submit(req).done;

  // a request already decoding finishes on the base weights
  const running = service.submit(request({ temperature: 0, maxTokens: 200, seed: 3 }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await service.setAdapter(dir);
  assert.equal(service.stats().adapter, dir);
  const adapted = await service.submit(req).done;
  assert.equal(adapted.adapter, dir);
  assert.equal((await running.done).adapter, null);

  model.adapter = adapter;
  try {
    assert.deepEqual(
      adapted.choices.map((c) => c.text),
      expectedTexts(req),
    );
  } finally {
    model.adapter = null;
  }
  assert.notEqual(adapted.choices[0].text, base.choices[0].text);

  await assert.rejects(service.setAdapter(path.join(tmp, "missing")), /cannot load the adapter/);
  await service.setAdapter(null);
  assert.equal(service.stats().adapter, null);
  assert.deepEqual((await service.submit(req).done).choices, base.choices);
});

test("the server's event loop keeps ticking while 8 requests decode", async () => {
  const busy = await startGenerationService({ modelDir: randomDir, adapterDir: null, maxBatch: 8, maxQueue: 8 });
  try {
    let maxGap = 0;
    let last = performance.now();
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const started = performance.now();
    let deltas = 0;
    const handles = Array.from({ length: 8 }, (_, seed) =>
      busy.submit(request({ maxTokens: 120, seed }), {
        onDelta() {
          deltas++;
        },
      }),
    );
    const results = await Promise.all(handles.map((h) => h.done));
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    const tokens = results.reduce((sum, r) => sum + r.choices[0].completionTokens, 0);
    process.stdout.write(
      `# 8 requests: ${tokens} tokens (${deltas} deltas) in ${seconds.toFixed(2)} s; event loop: ${ticks} ticks, max gap ${maxGap.toFixed(1)} ms\n`,
    );
    assert.ok(tokens >= 400, `enough decoding to measure (${tokens} tokens)`);
    assert.ok(maxGap < 100, `the event loop stalled for ${maxGap.toFixed(1)} ms`);
  } finally {
    await busy.close();
  }
});

test("when the worker dies, every pending request rejects with an internal error and nothing hangs", async () => {
  // The real worker, made to exit when it receives the prompt "crash".
  const wrapper = path.join(tmp, "crashing-worker.mjs");
  const real = pathToFileURL(path.resolve(here, "../../src/server/generation/worker.js")).href;
  fs.writeFileSync(
    wrapper,
    `import { parentPort } from "node:worker_threads";
parentPort.on("message", (m) => { if (m.type === "submit" && m.request.prompt === "crash") process.exit(7); });
await import(${JSON.stringify(real)});
`,
  );
  const doomed = await startGenerationService(
    { modelDir: randomDir, adapterDir: null, maxBatch: 2, maxQueue: 8 },
    pathToFileURL(wrapper),
  );
  const stderrWrite = process.stderr.write;
  const logged: string[] = [];
  process.stderr.write = ((chunk: string) => logged.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    let onStart!: () => void;
    const started = new Promise<void>((resolve) => {
      onStart = resolve;
    });
    const pending = [1, 2, 3].map((seed) => doomed.submit(request({ maxTokens: 500, seed }), { onStart }));
    await started;
    const adapterSwitch = doomed.setAdapter(null); // waits for the running requests to drain
    const crash = doomed.submit(request({ prompt: "crash" }));
    for (const handle of [...pending, crash])
      await assert.rejects(
        handle.done,
        (error: unknown) =>
          error instanceof GenerationError && error.kind === "internal" && /exited with code 7/.test(error.message),
      );
    await assert.rejects(adapterSwitch, /exited with code 7/);
    assert.match(doomed.failed?.message ?? "", /exited with code 7/);
    assert.ok(logged.some((line) => /generation worker stopped/.test(line)));
    await assert.rejects(doomed.submit(request()).done, (error: unknown) => error instanceof GenerationError);
    await assert.rejects(doomed.setAdapter(null), /exited with code 7/);
    assert.deepEqual([doomed.stats().running, doomed.stats().queued], [0, 0]);
  } finally {
    process.stderr.write = stderrWrite;
    await doomed.close();
  }
});

test("a model or adapter that cannot load fails the start, naming the problem", async () => {
  await assert.rejects(
    startGenerationService({ modelDir: path.join(tmp, "nowhere"), adapterDir: null, maxBatch: 2, maxQueue: 2 }),
    /nowhere/,
  );
  await assert.rejects(
    startGenerationService({ modelDir: MODEL_DIR, adapterDir: path.join(tmp, "no-adapter"), maxBatch: 2, maxQueue: 2 }),
    /no-adapter/,
  );
  await assert.rejects(
    startGenerationService({ modelDir: MODEL_DIR, adapterDir: null, maxBatch: 0, maxQueue: 2 }),
    /maxBatch must be a positive integer/,
  );
});

test("close() ends the service: running requests end 'cancelled', later ones are refused", async () => {
  const closing = await startGenerationService({ modelDir: randomDir, adapterDir: null, maxBatch: 2, maxQueue: 4 });
  const running = closing.submit(request({ maxTokens: 800, seed: 1 }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await closing.close();
  await closing.close();
  const result = await running.done;
  assert.equal(result.choices[0].finishReason, "cancelled");
  assert.ok(result.choices[0].completionTokens > 0, "it had started");
  await assert.rejects(closing.submit(request()).done, /closed/);
});
