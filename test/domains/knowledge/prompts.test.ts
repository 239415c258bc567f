import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { readSelfEditFile, readSftJsonl } from "../../../src/domains/knowledge/data.js";
import {
  buildSelfEditPrompt,
  closedBookQaPrompt,
  closedBookQuestion,
  parsePromptTemplate,
  readPromptTemplateFile,
  renderPromptTemplate,
  SELF_EDIT_PROMPT_STYLES,
  SELF_EDIT_STYLE_FILE_TAGS,
  type SelfEditPromptStyle,
} from "../../../src/domains/knowledge/prompts.js";
import { tempDir } from "../../io/fixtures.js";
import { exists, knowledgeDataMissing, knowledgeDataPath } from "./shared-data.js";

const implicationsFiles = [
  ["eval", "base_val.json"],
  ["eval", "gpt4_1_val.json"],
  ["eval", "iter1_val.json"],
  ["eval", "iter2_val.json"],
  ["train", "iter0_train.json"],
  ["train", "iter1_train.json"],
];

test("implications prompt rebuilds every stored prompt of the shared synthetic files byte for byte", {
  skip: knowledgeDataMissing,
}, () => {
  let checked = 0;
  for (const parts of implicationsFiles) {
    for (const [index, record] of readSelfEditFile(knowledgeDataPath("synthetic_data", ...parts)).entries()) {
      assert.equal(
        buildSelfEditPrompt("implications", record.title, record.context),
        record.prompt,
        `${parts} #${index}`,
      );
      checked++;
    }
  }
  assert.equal(checked, 200 + 200 + 250 + 200 + 100 + 50);
});

test("EM_SFT rows carry the iter0 generation prompts, rebuilt by the implications style", {
  skip: knowledgeDataMissing,
}, () => {
  const train = readSelfEditFile(knowledgeDataPath("synthetic_data", "train", "iter0_train.json"));
  const prompts = new Set(train.map((record) => buildSelfEditPrompt("implications", record.title, record.context)));
  const rows = readSftJsonl(knowledgeDataPath("synthetic_data", "EM_SFT", "sft_best1of5_iter0.jsonl"));
  assert.ok(rows.every((row) => prompts.has(row.prompt)));
});

/**
 * The alternate-prompt files are not all copied to ../shared/data. These are SHA-256 digests of the reference's
 * stored `prompt` fields (all records joined with NUL) of eval/alternate_prompts/base/base_val_prompt-*.json at
 * Continual-Intelligence/SEAL 4cb1e7d; those files hold the same 200 articles, in the same order, as base_val.json.
 */
const alternatePromptDigests: Partial<Record<SelfEditPromptStyle, string>> = {
  "implications-long": "aaaebc0ce96be874e2a5b1f39171ca2cf0d29ba163dabd8172fb0d6c3e4774e2",
  rewrite: "77763b7dabd15ada889da6967ff69411eced1a8c754201d27aed98654d3ec733",
  "self-qa": "1477e49f2476b2c5efd23f4737bf26c70c7a36f490ec80a108ef1cb5b6482ffa",
};

test("alternate prompt styles reproduce the reference's stored prompts (digest over base_val's 200 articles)", {
  skip: knowledgeDataMissing,
}, () => {
  const base = readSelfEditFile(knowledgeDataPath("synthetic_data", "eval", "base_val.json"));
  for (const [style, digest] of Object.entries(alternatePromptDigests)) {
    const joined = base
      .map((record) => buildSelfEditPrompt(style as SelfEditPromptStyle, record.title, record.context))
      .join("\0");
    assert.equal(crypto.createHash("sha256").update(joined, "utf8").digest("hex"), digest, style);
  }
});

test("alternate prompt files, where present in shared data, are rebuilt record by record", {
  skip: knowledgeDataMissing,
}, (t) => {
  let found = 0;
  for (const style of SELF_EDIT_PROMPT_STYLES) {
    const tag = SELF_EDIT_STYLE_FILE_TAGS[style];
    if (tag === "") continue;
    for (const model of ["base", "iter1", "iter2"]) {
      const file = knowledgeDataPath("synthetic_data", "eval", "alternate_prompts", model, `${model}_val_${tag}.json`);
      if (!exists(file)) continue;
      found++;
      for (const [index, record] of readSelfEditFile(file).entries()) {
        assert.equal(buildSelfEditPrompt(style, record.title, record.context), record.prompt, `${file} #${index}`);
      }
    }
  }
  if (found === 0) t.skip("no alternate_prompts files in ../shared/data");
});

test("built-in prompt shapes (§1.2)", () => {
  assert.equal(
    buildSelfEditPrompt("self-qa", "T", "C"),
    "Let's read the following passage and rewrite it in a question-answer format.\n\nPassage:\nT\nC\n\nQuestion 1: ",
  );
  assert.equal(
    buildSelfEditPrompt("rewrite", "T", "C"),
    "Let's read the following passage and rewrite it in a few different ways, each one separated by a newline.\n\nPassage:\nT\nC\n\nRewritten passages:\n",
  );
  assert.equal(
    buildSelfEditPrompt("implications-very-long", "T", "C"),
    "Let's read the following passage and produce a very long list of implications derived directly or indirectly from the content.\n\nPassage:\nT\nC\n\nImplications:\n",
  );
  // Braces in the passage are data, never placeholders.
  assert.equal(
    buildSelfEditPrompt("implications", "{context}", "x {title} }{"),
    buildSelfEditPrompt("implications", "A", "B").replace("A\nB", "{context}\nx {title} }{"),
  );
});

test("closed-book QA prompt (§1.5)", () => {
  assert.equal(closedBookQuestion("Genghis Khan", "Who fled?"), "Topic: Genghis Khan\nWho fled?");
  assert.equal(
    closedBookQaPrompt("Genghis Khan", "Who fled?"),
    "Let's answer a question directly and concisely.\nQuestion: Topic: Genghis Khan\nWho fled?\nAnswer:\n",
  );
});

test("user template files: placeholders, escaped braces, verbatim text", () => {
  const dir = tempDir("seal-knowledge-");
  const file = path.join(dir, "template.txt");
  fs.writeFileSync(file, "\uFEFFRead {{this}}:\n{title}\n{context}\nList:\n");
  const template = readPromptTemplateFile(file);
  assert.equal(template.origin, file);
  assert.equal(renderPromptTemplate(template, { title: "T", context: "C" }), "Read {this}:\nT\nC\nList:\n");
  assert.equal(buildSelfEditPrompt(template, "T", "C"), "Read {this}:\nT\nC\nList:\n");
  // The built-in implications template written to a file behaves like the built-in style.
  fs.writeFileSync(
    file,
    "Let's read the following passage and produce a list of implications derived directly or indirectly from the content.\n\nPassage:\n{title}\n{context}\n\nImplications:\n",
  );
  assert.equal(
    buildSelfEditPrompt(readPromptTemplateFile(file), "A", "B"),
    buildSelfEditPrompt("implications", "A", "B"),
  );
});

test("user template errors name the file and position", () => {
  const dir = tempDir("seal-knowledge-");
  const file = path.join(dir, "bad.txt");
  const cases: [string, RegExp][] = [
    ["Passage:\n{title}\n{passage}\n", /bad\.txt: unknown placeholder "\{passage\}" at line 3, column 1/],
    ["{context}\nx { y\n", /bad\.txt: unmatched "\{" at line 2, column 3/],
    ["{context} }", /bad\.txt: unmatched "\}" at line 1, column 11/],
    ["{context", /bad\.txt: unmatched "\{" at line 1, column 1/],
    ["only {title}", /bad\.txt: the template has no \{context\} placeholder/],
  ];
  for (const [text, expected] of cases) {
    fs.writeFileSync(file, text);
    assert.throws(() => readPromptTemplateFile(file), expected, text);
  }
  assert.throws(() => readPromptTemplateFile(path.join(dir, "absent.txt")), /absent\.txt: cannot read \(ENOENT\)/);
  assert.throws(() => parsePromptTemplate("{Context}", "inline"), /inline: unknown placeholder "\{Context\}"/);
});
