import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { readJsonlFile } from "../../../src/cli/commands/jsonl.js";
import { buildTrainData, parseTrainLines } from "../../../src/cli/commands/train-data.js";
import { readPassageFile, readSelfEditFile } from "../../../src/domains/knowledge/data.js";
import { buildSelfEditPrompt } from "../../../src/domains/knowledge/prompts.js";
import { writeMiniWorld } from "../../../src/domains/mini/files.js";
import { WORLD_VERSION } from "../../../src/domains/mini/world.js";
import { loadTokenizer } from "../../../src/io/tokenizer.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "seal-mini-files-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe("writeMiniWorld", () => {
  const out = path.join(root, "world");
  const options = { world: { seed: 11, pretrainPeople: 200, rlPeople: 20, evalPeople: 15 }, oracleCompletions: 2 };
  const written = writeMiniWorld(out, options);

  it("writes every file, readable by the knowledge readers", () => {
    assert.equal(readPassageFile(path.join(out, "pretrain_passages.json")).length, 200);
    const rl = readPassageFile(path.join(out, "rl_passages.json"));
    const evaluation = readPassageFile(path.join(out, "eval_passages.json"));
    assert.equal(rl.length, 20);
    assert.equal(evaluation.length, 15);
    const oracle = readSelfEditFile(path.join(out, "eval_oracle.json"));
    assert.equal(oracle.length, 15);
    oracle.forEach((record, i) => {
      assert.deepEqual({ title: record.title, context: record.context, questions: record.questions }, evaluation[i]);
      assert.equal(record.completions.length, 2);
      assert.equal(record.prompt, buildSelfEditPrompt("implications", record.title, record.context));
    });
    assert.equal(readSelfEditFile(path.join(out, "rl_oracle.json")).length, 20);
    const world = JSON.parse(fs.readFileSync(path.join(out, "world.json"), "utf8"));
    assert.equal(world.version, WORLD_VERSION);
    assert.equal(world.people.length, 235);
    assert.deepEqual(
      world.people.filter((p: { split: string }) => p.split === "eval").map((p: { name: string }) => p.name),
      evaluation.map((p) => p.title),
    );
  });

  it("writes the corpus as seal-train text lines that end in EOS", () => {
    const file = path.join(out, "corpus.jsonl");
    const lines = parseTrainLines(readJsonlFile(file), file);
    assert.equal(lines.length, written.corpus.length);
    const tokenizer = loadTokenizer(path.join(out, "tokenizer"));
    const data = buildTrainData(lines, tokenizer, {
      lossOnAllTokens: true,
      appendEos: true,
      eosTokenId: tokenizer.eosTokenIds[0],
      maxLength: 4096,
    });
    assert.equal(data.examples.length, written.corpus.length);
    assert.equal(data.truncated, 0);
    for (const example of data.examples)
      assert.equal(example.tokens[example.tokens.length - 1], tokenizer.eosTokenIds[0]);
    assert.equal(data.targetTokens + data.examples.length, written.stats.corpusTokens.total);
  });

  it("reports sizes", () => {
    const stats = JSON.parse(fs.readFileSync(path.join(out, "stats.json"), "utf8"));
    assert.deepEqual(stats, written.stats);
    assert.deepEqual(stats.people, { pretrain: 200, rl: 20, eval: 15 });
    assert.equal(stats.vocabSize, loadTokenizer(path.join(out, "tokenizer")).vocabSize);
    assert.ok(stats.meanTokensPerPassage > 20 && stats.meanTokensPerPassage < 80);
    const kinds = ["bio", "facts", "qa", "demonstration", "world"];
    assert.equal(
      kinds.reduce((sum, kind) => sum + stats.corpusTokens[kind], 0),
      stats.corpusTokens.total,
    );
  });

  it("writes the same bytes for the same options", () => {
    const again = path.join(root, "again");
    writeMiniWorld(again, options);
    for (const file of ["world.json", "eval_oracle.json", "corpus.jsonl", "tokenizer/tokenizer.json"])
      assert.ok(fs.readFileSync(path.join(out, file)).equals(fs.readFileSync(path.join(again, file))), file);
  });
});
