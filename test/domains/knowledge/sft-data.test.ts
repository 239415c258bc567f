import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { readSftJsonl } from "../../../src/domains/knowledge/data.js";
import { exampleTargets } from "../../../src/engine/train.js";
import { loadTokenizer } from "../../../src/io/tokenizer.js";
import { sftEosTokenId, tokenizeSftRow, tokenizeSftRows } from "../../../src/seal/sft-rows.js";
import { QWEN3_TOKENIZER } from "../../io/fixtures.js";
import { knowledgeDataMissing, knowledgeDataPath } from "./shared-data.js";

const EM_SFT = knowledgeDataPath("synthetic_data", "EM_SFT");
const tokenizer = loadTokenizer(QWEN3_TOKENIZER);
const eos = sftEosTokenId(tokenizer, []);

describe("SFT data (completion-only loss)", () => {
  for (const name of ["sft_best1of5_iter0.jsonl", "sft_best1of5_iter1.jsonl"]) {
    it(`reads the reference's EM_SFT file ${name} as SFT examples`, { skip: knowledgeDataMissing }, () => {
      const rows = readSftJsonl(path.join(EM_SFT, name));
      assert.equal(rows.length, 50);
      const examples = tokenizeSftRows(tokenizer, rows, eos);
      rows.forEach((row, i) => {
        const example = examples[i];
        assert.match(row.prompt, /\n\nImplications:\n$/);
        const promptIds = tokenizer.encode(row.prompt);
        const completionIds = tokenizer.encode(row.completion, { addSpecialTokens: false });
        // the mask starts exactly at the first completion token and covers the completion and the EOS
        assert.equal(example.completionStart, promptIds.length);
        assert.deepEqual(example.tokens, [...promptIds, ...completionIds, eos]);
        assert.equal(example.lossMask.indexOf(true), promptIds.length);
        assert.ok(example.lossMask.slice(promptIds.length).every(Boolean));
        assert.equal(example.completionTokens, completionIds.length + 1);
        assert.equal(tokenizer.decode(example.tokens.slice(example.completionStart, -1)), row.completion);
        // trained targets = the completion tokens and EOS, predicted from the position before each
        const targets = exampleTargets(example);
        const trained = [...targets].filter((t) => t >= 0);
        assert.deepEqual(trained, [...completionIds, eos]);
        assert.equal(targets[promptIds.length - 2], -1);
        assert.equal(targets[promptIds.length - 1], example.tokens[promptIds.length]);
      });
    });
  }

  it("does not add a second EOS and refuses an empty prompt", () => {
    const eosText = tokenizer.decode([eos]);
    const row = tokenizeSftRow(tokenizer, { prompt: "P:\n", completion: `done${eosText}` }, eos);
    assert.equal(row.tokens.filter((t) => t === eos).length, 1);
    assert.throws(
      () => tokenizeSftRows(tokenizer, [{ prompt: "", completion: "x" }], eos),
      /SFT row 0: the prompt is empty/,
    );
  });
});
