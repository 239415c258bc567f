/**
 * An adapter applied to another model of the same shapes is no longer applied silently: `generate --adapter` and
 * `adapter merge` warn (refuse with --strict), `adapter info` shows the recorded base (issue 10, item 6).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { QWEN3_TOKENIZER } from "../io/fixtures.js";
import { createTinyModel, seal, sealResult } from "./cli-fixtures.js";

const { root, model } = createTinyModel("seal-cli-adapter-base-");
/** Same preset and shapes, other random weights. */
const other = path.join(root, "other");
seal(["model", "create", "--preset", "tiny-qwen2", "--tokenizer", QWEN3_TOKENIZER, "--out", other, "--seed", "2"]);
const data = path.join(root, "data.jsonl");
fs.writeFileSync(data, `${JSON.stringify({ text: "The capital of France is Paris." })}\n`);
const adapter = path.join(root, "adapter");
seal(["train", "--model", model, "--data", data, "--out", adapter, "--epochs", "2"]);

const WARNING = new RegExp(
  `^warning: ${adapter} was trained on a different base model \\(base fingerprint [0-9a-f]{12}… of ${model}\\) ` +
    "than the one it is applied to \\([0-9a-f]{12}…\\); applying it anyway \\(--strict refuses\\)$",
  "m",
);

function generate(base: string, ...extra: string[]) {
  return sealResult([
    "generate",
    "--model",
    base,
    "--adapter",
    adapter,
    "--prompt",
    "Hi",
    "--max-new-tokens",
    "2",
    ...extra,
  ]);
}

test("generate --adapter: silent on its base, warns on another, refuses it with --strict", () => {
  const same = generate(model, "--strict");
  assert.equal(same.status, 0, same.stderr);
  assert.equal(same.stderr, "");
  const warned = generate(other);
  assert.equal(warned.status, 0, warned.stderr);
  assert.match(warned.stderr, WARNING);
  assert.notEqual(warned.stdout, "", "the records are still written");
  const refused = generate(other, "--strict");
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^seal: .* was trained on a different base model .*; refused \(--strict\)\n$/);
  assert.equal(refused.stdout, "");
});

test("adapter merge warns or refuses; the merged model is itself another base for the adapter", () => {
  const merged = path.join(root, "merged");
  const ok = sealResult(["adapter", "merge", "--model", model, "--adapter", adapter, "--out", merged]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr, "");
  // applying the adapter a second time, to the model it is already merged into
  assert.match(generate(merged).stderr, WARNING);
  const refused = sealResult([
    "adapter",
    "merge",
    "--model",
    other,
    "--adapter",
    adapter,
    "--out",
    path.join(root, "bad"),
    "--strict",
  ]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /refused \(--strict\)/);
  assert.equal(fs.existsSync(path.join(root, "bad")), false);
  const warned = sealResult([
    "adapter",
    "merge",
    "--model",
    other,
    "--adapter",
    adapter,
    "--out",
    path.join(root, "m2"),
  ]);
  assert.equal(warned.status, 0, warned.stderr);
  assert.match(warned.stderr, WARNING);
});

test("adapter info shows the recorded fingerprint and, with --model, whether it is the same base", () => {
  const plain = seal(["adapter", "info", "--adapter", adapter]);
  assert.match(plain, /^base fingerprint: [0-9a-f]{64}$/m);
  assert.match(seal(["adapter", "info", "--adapter", adapter, "--model", model]), /^same base: {2}yes$/m);
  const info = JSON.parse(seal(["adapter", "info", "--adapter", adapter, "--model", other, "--json"]));
  assert.equal(info.sameBase, "no");
  assert.match(info.sameBaseNote, /trained on a different base model/);
  // An adapter from PEFT (no seal_adapter.json) loads with a note naming the base its config gives.
  fs.rmSync(path.join(adapter, "seal_adapter.json"));
  assert.match(seal(["adapter", "info", "--adapter", adapter]), /^base fingerprint: none — no seal_adapter\.json/m);
  const peft = generate(other, "--strict");
  assert.equal(peft.status, 0, peft.stderr);
  assert.match(
    peft.stderr,
    new RegExp(`^note: .*its base model is not checked \\(adapter_config\\.json names base model ${model}\\)$`, "m"),
  );
});
