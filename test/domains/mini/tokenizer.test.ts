import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { buildSelfEditPrompt, closedBookQaPrompt } from "../../../src/domains/knowledge/prompts.js";
import { preTokenize } from "../../../src/domains/mini/byte-level.js";
import { buildPretrainCorpus } from "../../../src/domains/mini/corpus.js";
import { heldOutTexts } from "../../../src/domains/mini/files.js";
import { oracleRecords, splitPassages } from "../../../src/domains/mini/held-out.js";
import { buildTokenizer, END_OF_TEXT, writeTokenizerFiles } from "../../../src/domains/mini/tokenizer-builder.js";
import { generateWorld } from "../../../src/domains/mini/world.js";
import { loadTokenizer } from "../../../src/io/tokenizer.js";

const world = generateWorld();
const corpusTexts = buildPretrainCorpus(world).map((doc) => doc.text);
const passages = [...splitPassages(world, "rl"), ...splitPassages(world, "eval")];
const oracle = [...oracleRecords(world, "rl"), ...oracleRecords(world, "eval")].flatMap((r) => r.completions);
const heldOut = heldOutTexts(passages, oracle);
const built = buildTokenizer([...corpusTexts, ...heldOut]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seal-mini-tokenizer-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
writeTokenizerFiles(dir, built);
const tokenizer = loadTokenizer(dir);

/** Encodings of the corpus, computed once (the library's encoder is the slow part of these tests). */
const corpusIds = corpusTexts.map((text) => tokenizer.encode(text));

function roundTrips(text: string, ids = tokenizer.encode(text)): void {
  assert.equal(tokenizer.decode(ids), text);
  for (const id of ids) assert.ok(id >= 0 && id < tokenizer.vocabSize);
}

describe("mini tokenizer", () => {
  it("loads through src/io/tokenizer.ts with EOS, no BOS, and a small vocabulary", () => {
    assert.equal(tokenizer.vocabSize, built.vocabSize);
    assert.ok(tokenizer.vocabSize < 2000, `vocabulary ${tokenizer.vocabSize}`);
    assert.equal(tokenizer.eosToken, END_OF_TEXT);
    assert.deepEqual(tokenizer.eosTokenIds, [0]);
    assert.equal(tokenizer.bosTokenId, null);
    assert.deepEqual(tokenizer.encode(END_OF_TEXT), [0]);
    assert.equal(tokenizer.hasChatTemplate, false);
    // no special tokens are added, so training texts and prompts tokenize alike
    const text = "Talking about nothing.";
    assert.deepEqual(tokenizer.encode(text), tokenizer.encode(text, { addSpecialTokens: false }));
  });

  it("round-trips the whole corpus and every held-out text exactly", () => {
    corpusTexts.forEach((text, i) => {
      roundTrips(text, corpusIds[i]);
    });
    for (const text of heldOut) roundTrips(text);
  });

  it("round-trips arbitrary text through byte fallback", () => {
    const samples = [
      "",
      " ",
      "  leading and trailing  ",
      "tabs\tand\r\nwindows\u000blines\n\n\n",
      "Ünïcödé — “quotes” and ‘apostrophes’ … ½ × ∑",
      "中文字符和日本語のテキスト、한국어",
      "emoji 🎉👩‍👩‍👧‍👦 and flags 🇫🇷, combining e\u0301 and zero-width\u200bjoiner",
      "Zhaexvrolith Unknownword 12345678901234567890 <|notspecial|> {braces} `code`",
      "السلام عليكم שלום Ελληνικά кириллица",
      "\u0000\u0001 control \u007f\u0085\u00a0nbsp",
    ];
    for (const text of samples) {
      if (text === "") {
        assert.deepEqual(tokenizer.encode(text), []);
        assert.equal(tokenizer.decode([]), "");
      } else roundTrips(text);
    }
    // every single byte value too
    let all = "";
    for (let code = 1; code < 0x800; code++) all += String.fromCodePoint(code);
    roundTrips(all);
    // unseen words cost bytes, never an unknown token
    const ids = tokenizer.encode("Qqqq");
    assert.equal(ids.length, 4);
  });

  it("gives one token per pre-token of world text: about one per word", () => {
    for (const passage of passages) {
      const text = `${passage.title}\n${passage.context}`;
      const ids = tokenizer.encode(text);
      assert.equal(ids.length, preTokenize(text).length);
      const words = text.split(/\s+/).length;
      assert.ok(ids.length <= words * 1.4, `${ids.length} tokens for ${words} words`);
    }
    const year = world.values.birthYear[0];
    assert.equal(tokenizer.encode(` ${year}`).length, 1);
    assert.equal(tokenizer.encode(world.values.university[0]).length, 2);
  });

  it("tokenizes a prompt followed by its answer as the prompt's tokens then the answer's", () => {
    // the inner loop encodes the prompt alone and reads the generated answer; pretraining sees prompt + answer
    for (const passage of passages.slice(0, 50)) {
      for (const qa of passage.questions) {
        const prompt = closedBookQaPrompt(passage.title, qa.question);
        assert.deepEqual(tokenizer.encode(prompt + qa.answer), [
          ...tokenizer.encode(prompt),
          ...tokenizer.encode(qa.answer),
        ]);
      }
      const selfEditPrompt = buildSelfEditPrompt("implications", passage.title, passage.context);
      const completion = oracle[0];
      assert.deepEqual(tokenizer.encode(selfEditPrompt + completion), [
        ...tokenizer.encode(selfEditPrompt),
        ...tokenizer.encode(completion),
      ]);
    }
  });

  it("uses for held-out texts only tokens that pretraining trains", () => {
    const trained = new Set<number>();
    for (const ids of corpusIds) for (const id of ids) trained.add(id);
    for (const passage of passages) {
      const texts = [
        `${passage.title}\n${passage.context}`,
        buildSelfEditPrompt("implications", passage.title, passage.context),
      ];
      for (const qa of passage.questions) texts.push(closedBookQaPrompt(passage.title, qa.question) + qa.answer);
      for (const text of texts)
        for (const id of tokenizer.encode(text)) assert.ok(trained.has(id), `${tokenizer.idToToken(id)} in ${text}`);
    }
    for (const text of oracle)
      for (const id of tokenizer.encode(text)) assert.ok(trained.has(id), `${tokenizer.idToToken(id)} in ${text}`);
  });

  it("is deterministic in its texts", () => {
    assert.deepEqual(buildTokenizer([...corpusTexts, ...heldOut]).tokenizerJson, built.tokenizerJson);
    // "a" and "b" are byte symbols already; the new pieces follow by count, then in code-unit order
    const small = buildTokenizer(["a b a c", "b c"]);
    assert.equal(small.vocabSize, 1 + 256 + 3);
    assert.deepEqual([small.vocab.get("Ġc"), small.vocab.get("Ġa"), small.vocab.get("Ġb")], [257, 258, 259]);
  });
});
