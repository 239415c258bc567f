import assert from "node:assert/strict";
import { it } from "node:test";
import { loadTokenizer } from "../../src/io/tokenizer.js";
import { tokenizeSftRow } from "../../src/seal/sft-rows.js";
import { llama32TokenizerDir } from "../io/llama32-tokenizer.js";

const BOS = 128000;
const EOT = 128009;

it("a prompt that already starts with the BOS text gets no second BOS; a plain one gets the tokenizer's", () => {
  const tokenizer = loadTokenizer(llama32TokenizerDir());
  const handBuilt = tokenizeSftRow(tokenizer, { prompt: "<|begin_of_text|>Hi", completion: " there" }, EOT);
  assert.equal(handBuilt.tokens.filter((id) => id === BOS).length, 1);
  assert.equal(handBuilt.tokens[0], BOS);
  assert.deepEqual(tokenizer.encode("<|begin_of_text|>Hi").slice(0, 2), [BOS, BOS], "the tokenizer itself adds one");
  const plain = tokenizeSftRow(tokenizer, { prompt: "Hi", completion: " there" }, EOT);
  assert.deepEqual(plain.tokens, handBuilt.tokens);
  assert.equal(plain.tokens[plain.tokens.length - 1], EOT);
  assert.equal(tokenizer.decode(plain.tokens.slice(plain.completionStart)), " there<|eot_id|>");
});
