import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { readGenerationConfig, toGenerationConfigJson, writeGenerationConfig } from "../../src/io/generation-config.js";
import { tempDir } from "./fixtures.js";

test("absent generation_config.json reads as null", () => {
  assert.equal(readGenerationConfig(tempDir()), null);
});

test("reads eos lists and sampling defaults (Qwen2.5-Instruct style)", () => {
  const dir = tempDir();
  fs.writeFileSync(
    path.join(dir, "generation_config.json"),
    JSON.stringify({
      bos_token_id: 151643,
      pad_token_id: 151643,
      do_sample: true,
      eos_token_id: [151645, 151643],
      repetition_penalty: 1.05,
      temperature: 0.7,
      top_p: 0.8,
      top_k: 20,
      transformers_version: "4.37.0",
    }),
  );
  assert.deepEqual(readGenerationConfig(dir), {
    bosTokenId: 151643,
    eosTokenIds: [151645, 151643],
    padTokenId: 151643,
    doSample: true,
    temperature: 0.7,
    topP: 0.8,
    topK: 20,
    repetitionPenalty: 1.05,
  });
});

test("a single eos id becomes a one-element list; write → read round-trips", () => {
  const dir = tempDir();
  writeGenerationConfig(dir, { bosTokenId: 1, eosTokenIds: [2], padTokenId: null, temperature: 0.5 });
  const raw = JSON.parse(fs.readFileSync(path.join(dir, "generation_config.json"), "utf8"));
  assert.deepEqual(raw, { bos_token_id: 1, eos_token_id: 2, temperature: 0.5 });
  assert.deepEqual(readGenerationConfig(dir), { bosTokenId: 1, eosTokenIds: [2], padTokenId: null, temperature: 0.5 });
  assert.deepEqual(toGenerationConfigJson({ bosTokenId: null, eosTokenIds: [], padTokenId: null }), {
    bos_token_id: null,
    eos_token_id: null,
  });
});

test("invalid fields are named with the file", () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: ["x"], top_p: 2 }));
  assert.throws(
    () => readGenerationConfig(dir),
    /generation_config\.json: field "eos_token_id": expected a token id or a list of token ids; field "top_p"/,
  );
});
