/**
 * `seal generate`, `seal train` and `seal adapter` end to end, on one tiny Qwen2-shaped model with Qwen3's real
 * tokenizer (one model and one base-model greedy run shared by the tests, since each CLI call loads the tokenizer).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { loadModel } from "../../src/io/model-files.js";
import { loadAdapter } from "../../src/io/peft.js";
import { loadTokenizer } from "../../src/io/tokenizer.js";
import { createTinyModel, type OutputRecord, parseJsonl, seal, sealResult } from "./cli-fixtures.js";

const { root, model } = createTinyModel("seal-cli-generate-train-");

/** The prompts file the greedy runs use: a raw prompt and a conversation. */
const PROMPTS_FILE = path.join(root, "prompts.jsonl");
fs.writeFileSync(
  PROMPTS_FILE,
  [
    JSON.stringify({ prompt: "The capital of France is" }),
    "",
    JSON.stringify({ messages: [{ role: "user", content: "Name a colour." }] }),
  ].join("\n"),
);
const GREEDY = ["--prompts", PROMPTS_FILE, "--n", "2", "--temperature", "0", "--max-new-tokens", "6"];

let baseGreedy: OutputRecord[] | null = null;
/** Greedy records of the base model for PROMPTS_FILE (computed once, written through --out). */
function baseGreedyRecords(): OutputRecord[] {
  if (baseGreedy === null) {
    const out = path.join(root, "greedy.jsonl");
    const stdout = seal(["generate", "--model", model, ...GREEDY, "--out", out]);
    assert.equal(stdout, "", "nothing on stdout with --out");
    baseGreedy = parseJsonl<OutputRecord>(fs.readFileSync(out, "utf8"));
  }
  return baseGreedy;
}

test("generate and train --help list their options", () => {
  const generateHelp = seal(["generate", "--help"]);
  for (const option of ["--model", "--adapter", "--prompt", "--prompts", "--chat", "--n", "--temperature", "--top-p"])
    assert.ok(generateHelp.includes(option), `generate --help mentions ${option}`);
  for (const option of ["--top-k", "--max-new-tokens", "--stop", "--seed", "--batch", "--out"])
    assert.ok(generateHelp.includes(option), `generate --help mentions ${option}`);
  const trainHelp = seal(["train", "--help"]);
  for (const option of ["--data", "--full", "--rank", "--alpha", "--targets", "--lr", "--grad-accum", "--max-length"])
    assert.ok(trainHelp.includes(option), `train --help mentions ${option}`);
});

test("generate writes one record per prompt and sample; greedy is deterministic; --chat and stop strings", () => {
  const records = baseGreedyRecords();
  assert.deepEqual(
    records.map((r) => [r.prompt_index, r.sample_index]),
    [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ],
  );
  assert.equal(records[0].prompt, "The capital of France is", "raw prompts are used as given");
  assert.equal(records[2].prompt, "<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n");
  for (const record of records) {
    assert.ok(record.tokens.length >= 1 && record.tokens.length <= 6);
    assert.ok(["length", "stop_token"].includes(record.finish_reason));
  }
  // Greedy: every sample of a prompt is the same.
  assert.deepEqual(records[1], { ...records[0], sample_index: 1 });
  assert.deepEqual(records[3], { ...records[2], sample_index: 1 });
  const tokenizer = loadTokenizer(model);
  for (const record of records)
    if (record.finish_reason === "length")
      assert.equal(record.completion, tokenizer.decode(record.tokens, { skipSpecialTokens: true }));

  // --prompt with --chat renders the same prompt as a {"messages"} line, and a stop string taken from the greedy
  // completion ends generation where it first appears, cut from the text.
  const chatGreedy = records[2];
  assert.ok(chatGreedy.tokens.length >= 2, "the greedy chat completion has two tokens or more");
  const stop = tokenizer.decode([chatGreedy.tokens[1]], { skipSpecialTokens: true });
  assert.ok(stop.length > 0 && chatGreedy.completion.includes(stop), `stop string ${JSON.stringify(stop)} occurs`);
  const stopped = parseJsonl<OutputRecord>(
    seal([
      ...["generate", "--model", model, "--prompt", "Name a colour.", "--chat", "--temperature", "0"],
      ...["--max-new-tokens", "6", "--stop", stop],
    ]),
  );
  assert.equal(stopped.length, 1);
  assert.equal(stopped[0].prompt, chatGreedy.prompt);
  assert.equal(stopped[0].finish_reason, "stop_string");
  assert.equal(stopped[0].completion, chatGreedy.completion.slice(0, chatGreedy.completion.indexOf(stop)));
  assert.ok(stopped[0].tokens.length <= 2);
  assert.deepEqual(stopped[0].tokens, chatGreedy.tokens.slice(0, stopped[0].tokens.length));
});

test("generate rejects bad prompt files and options with messages naming the file, line and field", () => {
  const bad = path.join(root, "bad-prompts.jsonl");
  fs.writeFileSync(bad, '{"prompt": "ok"}\n\n{"messages": [{"role": "user", "content": 3}]}\n');
  const wrongType = sealResult(["generate", "--model", model, "--prompts", bad]);
  assert.equal(wrongType.status, 1);
  assert.equal(
    wrongType.stderr,
    `seal: ${bad}:3: field "messages.0.content": Invalid input: expected string, received number\n`,
  );
  const neither = sealResult(["generate", "--model", model]);
  assert.equal(neither.stderr, "seal: give either --prompt <text...> or --prompts <file.jsonl>\n");
});

interface LogRecord {
  step: number;
  total_steps: number;
  epoch: number;
  loss: number;
  lr: number;
  grad_norm: number | null;
  tokens: number;
  tokens_per_second: number;
}

const PAIRS = [
  { prompt: "The capital of France is", completion: " Paris." },
  { prompt: "The capital of Germany is", completion: " Berlin." },
  { prompt: "The capital of Italy is", completion: " Rome." },
  { prompt: "The capital of Spain is", completion: " Madrid." },
];

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

test("train → adapter → generate → merge: loss falls, the adapter changes and merges exactly", () => {
  const data = path.join(root, "pairs.jsonl");
  fs.writeFileSync(data, PAIRS.map((pair) => JSON.stringify(pair)).join("\n"));
  const adapterDir = path.join(root, "adapter");
  const trained = sealResult([
    ...["train", "--model", model, "--data", data, "--out", adapterDir, "--epochs", "8", "--lr", "1e-2"],
    ...["--rank", "4", "--alpha", "8"],
  ]);
  assert.equal(trained.status, 0, trained.stderr);
  assert.equal(trained.stdout, "");
  assert.match(trained.stderr, /^step +1\/32 +epoch 1 +loss \d+\.\d{4} +lr 1\.00e-2 /m);
  assert.match(trained.stderr, /^step 32\/32 /m);

  const log = parseJsonl<LogRecord>(fs.readFileSync(path.join(adapterDir, "train_log.jsonl"), "utf8"));
  assert.equal(log.length, 32, "4 examples × 8 epochs, batch 1");
  assert.deepEqual(
    log.map((r) => r.step),
    Array.from({ length: 32 }, (_, i) => i + 1),
  );
  for (const record of log) {
    assert.equal(record.total_steps, 32);
    assert.ok(Number.isFinite(record.loss) && record.tokens > 0 && record.grad_norm !== null);
  }
  assert.ok(log[31].lr < log[0].lr, "linear decay");
  const firstEpoch = mean(log.slice(0, 4).map((r) => r.loss));
  const lastEpoch = mean(log.slice(28).map((r) => r.loss));
  assert.ok(lastEpoch < firstEpoch - 0.1, `loss falls: first epoch ${firstEpoch}, last ${lastEpoch}`);

  // A PEFT adapter the io layer loads for this model.
  const base = loadModel(model);
  const adapter = loadAdapter(adapterDir, base.config);
  assert.deepEqual(adapter.config, { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"] });
  const peftConfig = JSON.parse(fs.readFileSync(path.join(adapterDir, "adapter_config.json"), "utf8"));
  assert.equal(peftConfig.peft_type, "LORA");
  assert.equal(peftConfig.base_model_name_or_path, path.resolve(model));
  const info = JSON.parse(seal(["adapter", "info", "--adapter", adapterDir, "--model", model, "--json"]));
  assert.equal(info.rank, 4);
  assert.deepEqual(info.layers, [0, 1]);
  assert.equal(info.parameters, 2 * (4 * 64 + 64 * 4) + 2 * (4 * 64 + 32 * 4));
  assert.equal(info.fitsModel, true);

  // The adapter changes greedy generation; the merged model generates exactly what base + adapter does.
  const withoutAdapter = baseGreedyRecords();
  const withAdapter = parseJsonl<OutputRecord>(
    seal(["generate", "--model", model, "--adapter", adapterDir, ...GREEDY]),
  );
  assert.equal(withAdapter.length, withoutAdapter.length);
  assert.notDeepEqual(
    withAdapter.map((r) => r.tokens),
    withoutAdapter.map((r) => r.tokens),
  );
  const merged = path.join(root, "merged");
  const mergeOutput = seal(["adapter", "merge", "--model", model, "--adapter", adapterDir, "--out", merged]);
  assert.match(mergeOutput, /wrote .*merged \(F32, with tokenizer\.json, tokenizer_config\.json\)/);
  for (const file of ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"])
    assert.ok(fs.existsSync(path.join(merged, file)), file);
  const fromMerged = parseJsonl<OutputRecord>(seal(["generate", "--model", merged, ...GREEDY]));
  assert.deepEqual(
    fromMerged.map((r) => r.tokens),
    withAdapter.map((r) => r.tokens),
  );

  const again = sealResult(["adapter", "merge", "--model", model, "--adapter", adapterDir, "--out", merged]);
  assert.match(again.stderr, /^seal: .*merged already holds config\.json; pass --force to overwrite\n$/);
});

test("train --full on text and chat lines writes a loadable model folder", () => {
  const data = path.join(root, "mixed.jsonl");
  fs.writeFileSync(
    data,
    [
      { text: "Paris is the capital of France." },
      {
        messages: [
          { role: "system", content: "Answer briefly." },
          { role: "user", content: "Capital of Italy?" },
          { role: "assistant", content: "Rome." },
        ],
      },
    ]
      .map((line) => JSON.stringify(line))
      .join("\n"),
  );
  const out = path.join(root, "full");
  const result = sealResult(["train", "--model", model, "--data", data, "--out", out, "--full", "--lr", "1e-3"]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /training all weights on 2 examples/);
  const log = parseJsonl<LogRecord>(fs.readFileSync(path.join(out, "train_log.jsonl"), "utf8"));
  assert.equal(log.length, 2);
  const trained = loadModel(out);
  const base = loadModel(model);
  assert.deepEqual(trained.config, base.config);
  assert.notDeepEqual(trained.weights.layers[0].qProj, base.weights.layers[0].qProj);
  assert.ok(fs.existsSync(path.join(out, "tokenizer.json")));
  const config = JSON.parse(fs.readFileSync(path.join(out, "train_config.json"), "utf8"));
  assert.equal(config.kind, "full");
  assert.equal(config.examples, 2);
});

test("train rejects malformed data with file:line and the field, before loading the model", () => {
  const out = path.join(root, "never");
  const data = path.join(root, "bad.jsonl");
  fs.writeFileSync(data, '{"prompt": "a", "completion": "b"}\n\n{"prompt": "a"}\n');
  // A model path that does not exist: the data must be rejected before the model is read.
  const result = sealResult(["train", "--model", path.join(root, "no-model"), "--data", data, "--out", out]);
  assert.equal(result.status, 1);
  assert.equal(
    result.stderr,
    `seal: ${data}:3: field "completion": Invalid input: expected string, received undefined\n`,
  );
  assert.ok(!fs.existsSync(out), "nothing written");
});

test("generate refuses a prompt plus --max-new-tokens past the context unless --allow-rope-extrapolation", () => {
  const hi = ["generate", "--model", model, "--prompt", "Hi", "--temperature", "0"];
  const refused = sealResult([...hi, "--max-new-tokens", "600"]);
  assert.equal(refused.status, 1);
  assert.equal(
    refused.stderr,
    "seal: --prompt #1: 1 prompt token + 600 new tokens exceed the model's max_position_embeddings 512 (at most 511 new tokens fit after it); lower --max-new-tokens, shorten the prompt, or pass --allow-rope-extrapolation to go past it knowingly\n",
  );
  assert.equal(refused.stdout, "", "nothing generated");
  const allowed = sealResult([...hi, "--max-new-tokens", "520", "--allow-rope-extrapolation"]);
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.match(
    allowed.stderr,
    /^seal: warning: --prompt #1: 1 prompt token \+ 520 new tokens exceed .*extrapolating RoPE/,
  );
  const [record] = parseJsonl<OutputRecord>(allowed.stdout);
  assert.ok(record.tokens.length >= 1 && record.tokens.length <= 520);
});

test("train cuts examples at the model's context and refuses an absurd --rank by its range", () => {
  const data = path.join(root, "long.jsonl");
  fs.writeFileSync(data, `${JSON.stringify({ text: "word ".repeat(700) })}\n`);
  const out = path.join(root, "long-adapter");
  const trained = sealResult(["train", "--model", model, "--data", data, "--out", out, "--rank", "2"]);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(
    trained.stderr,
    /^warning: truncated 1 of 1 examples to 512 tokens, the model's max_position_embeddings \(--max-length 2048 is beyond it\)$/m,
  );
  const config = JSON.parse(fs.readFileSync(path.join(out, "train_config.json"), "utf8"));
  assert.equal(config.max_length, 512);

  const absurd = sealResult(["train", "--model", model, "--data", data, "--out", out, "--rank", "1e9"]);
  assert.equal(absurd.status, 1);
  assert.match(
    absurd.stderr,
    /^seal: option '--rank <n>' argument '1e9' is invalid\. expected an integer in \[1, 65536\]/,
  );
  const wide = sealResult(["train", "--model", model, "--data", data, "--out", out, "--rank", "100", "--force"]);
  assert.equal(wide.status, 0, wide.stderr);
  assert.match(
    wide.stderr,
    /^warning: --rank 100 exceeds min\(in, out\) of q_proj \(64\), v_proj \(32\): a rank above it adds no capacity$/m,
  );
});

test("train that diverges (--lr 1e30, or --alpha 1e308) exits 1 naming the step and what to lower; writes nothing", () => {
  const data = path.join(root, "diverge.jsonl");
  fs.writeFileSync(data, PAIRS.map((pair) => JSON.stringify(pair)).join("\n"));
  const cases = [
    { flags: ["--lr", "1e30"], hint: /lower --lr \(1e\+30\) or --alpha \(32\)\n$/ },
    { flags: ["--alpha", "1e308"], hint: /the loss is NaN.*lower --lr \(0\.0001\) or --alpha \(1e\+308\)\n$/ },
    { flags: ["--full", "--lr", "1e30"], hint: /lower --lr \(1e\+30\)\n$/ },
  ];
  for (const { flags, hint } of cases) {
    const out = path.join(root, `diverged-${flags.join("")}`);
    const result = sealResult(["train", "--model", model, "--data", data, "--out", out, "--epochs", "3", ...flags]);
    assert.equal(result.status, 1, `${flags.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, /^seal: training diverged at step 1 of 12 \(epoch 1\): /m, flags.join(" "));
    assert.match(result.stderr, new RegExp(`nothing was written to ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")};`));
    assert.match(result.stderr, hint, flags.join(" "));
    assert.doesNotMatch(result.stderr, /loss NaN|wrote/);
    assert.ok(!fs.existsSync(out), `${flags.join(" ")}: no adapter or model written`);
  }
});
