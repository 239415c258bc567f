import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodePrompt, encodeTrainingExample, renderPrompt } from "../../../src/domains/arc/chat-examples.js";
import { loadTokenizer } from "../../../src/io/tokenizer.js";
import { llama32TokenizerDir } from "../../io/llama32-tokenizer.js";

const BOS = 128000;
const END_HEADER = 128007;
const DOUBLE_NEWLINE = 271;
const EOT = 128009;

const messages = [
  { role: "system", content: "Figure out the transformation.\n[[1 2]] -> [[2 1]]#\n" },
  { role: "user", content: "[[3 4]] -> " },
];

describe("ARC chat examples (Llama 3.2 template)", () => {
  const tokenizer = loadTokenizer(llama32TokenizerDir());

  it("renders the system block with the fixed date, trimmed contents and one BOS", () => {
    const prompt = renderPrompt(tokenizer, messages);
    assert.equal(
      prompt,
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n" +
        "Today Date: 26 Jul 2024\n\nFigure out the transformation.\n[[1 2]] -> [[2 1]]#<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\n[[3 4]] -><|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
    const ids = encodePrompt(tokenizer, messages);
    assert.equal(ids.filter((id) => id === BOS).length, 1);
    assert.equal(ids[0], BOS);
    assert.deepEqual(ids.slice(-2), [END_HEADER, DOUBLE_NEWLINE]);
    assert.match(renderPrompt(tokenizer, messages, { date: "01 Jan 2030" }), /Today Date: 01 Jan 2030/);
  });

  it("output-token loss starts after the assistant header's \\n\\n and ends with <|eot_id|>", () => {
    const example = encodeTrainingExample(tokenizer, messages, "[[4 3]]#", "train_using_output_tokens");
    const { tokens, lossMask, promptTokens } = example;
    assert.deepEqual(tokens.slice(0, promptTokens), encodePrompt(tokenizer, messages));
    assert.equal(tokens[promptTokens - 2], END_HEADER);
    assert.equal(tokens[promptTokens - 1], DOUBLE_NEWLINE);
    assert.equal(tokens[tokens.length - 1], EOT);
    assert.ok(lossMask !== null);
    const trained = tokens.filter((_, i) => lossMask[i]);
    assert.equal(tokenizer.decode(trained), "[[4 3]]#<|eot_id|>");
    // exactly 3 header ends before the answer (system, user, assistant): the reference's mask point
    assert.equal(tokens.slice(0, promptTokens).filter((id) => id === END_HEADER).length, 3);
  });

  it("all-token loss trains on everything", () => {
    const example = encodeTrainingExample(tokenizer, messages, "[[4 3]]#", "train_using_all_tokens");
    assert.equal(example.lossMask, null);
  });
});
