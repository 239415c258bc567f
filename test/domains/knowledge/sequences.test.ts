import assert from "node:assert/strict";
import { test } from "node:test";
import { readSelfEditFile, type SelfEditRecord } from "../../../src/domains/knowledge/data.js";
import {
  buildPooledTrainSequences,
  buildTrainSequences,
  pythonSplitLines,
  pythonStrip,
  selfEditSegments,
} from "../../../src/domains/knowledge/sequences.js";
import { knowledgeDataMissing, knowledgeDataPath } from "./shared-data.js";

const split = { splitNewlines: true };
const noSplit = { splitNewlines: false };

function evalFile(name: string): SelfEditRecord[] {
  return readSelfEditFile(knowledgeDataPath("synthetic_data", "eval", name));
}

test("Python string semantics: strip and splitlines", () => {
  assert.equal(pythonStrip("\u3000\x1f a b\x85\n"), "a b");
  assert.equal(pythonStrip("\uFEFFa"), "\uFEFFa"); // not whitespace in Python
  assert.deepEqual(pythonSplitLines("a\r\nb\rc\u2028d\n"), ["a", "b", "c", "d"]);
  assert.deepEqual(pythonSplitLines("a\n\n"), ["a", ""]);
  assert.deepEqual(pythonSplitLines(""), []);
});

test("--- separators, line splitting, preamble drop, title prefix, passage last", () => {
  const completion = "Sure, here they are:\n1. One.\n  \n2. Two.\n---\n3. Three.\n---\n   \n";
  assert.deepEqual(buildTrainSequences(completion, "  The passage. \n", "T", split), [
    "T\n1. One.",
    "T\n2. Two.",
    "T\n3. Three.",
    "T\nThe passage.",
  ]);
  assert.deepEqual(buildTrainSequences(completion, "The passage.", "T", noSplit), [
    "T\nSure, here they are:\n1. One.\n  \n2. Two.",
    "T\n3. Three.",
    "T\nThe passage.",
  ]);
  // Only the second line starting with "1." triggers the drop.
  assert.deepEqual(selfEditSegments("Intro\nA\n1. x", split), ["Intro", "A", "1. x"]);
  assert.deepEqual(selfEditSegments("Intro\n1.x", split), ["1.x"]);
  assert.deepEqual(selfEditSegments("1. only", split), ["1. only"]);
});

test("empty completion: passage only when splitting, plus a bare title sequence when not", () => {
  assert.deepEqual(buildTrainSequences("", "P", "T", split), ["T\nP"]);
  assert.deepEqual(buildTrainSequences("  \n ", "P", "T", split), ["T\nP"]);
  assert.deepEqual(buildTrainSequences("", "P", "T", noSplit), ["T\n", "T\nP"]);
  // As in the reference, a completion of separators only falls back to the whole stripped completion.
  assert.deepEqual(buildTrainSequences(" --- ", "P", "T", noSplit), ["T\n---", "T\nP"]);
  assert.deepEqual(buildTrainSequences("---\n---", "P", "T", split), ["T\n---", "T\n---", "T\nP"]);
});

test("self-QA completions split before each Question N:, separators ignored", () => {
  const completion = "What is X?\nAnswer: Y.\nQuestion 2: Why?\nAnswer: Z.\n\nQuestion 3:\tWhen?\n---\nAnswer: now\n";
  assert.deepEqual(buildTrainSequences(completion, "P", "T", split), [
    "T\nQuestion 1: What is X?\nAnswer: Y.",
    "T\nQuestion 2: Why?\nAnswer: Z.\n",
    "T\nQuestion 3:\tWhen?\n---\nAnswer: now",
    "T\nP",
  ]);
  // Already starting with "Question": no prefix; "Question 10:" (several digits) splits too.
  assert.deepEqual(selfEditSegments("  Question 1: a\nAnswer: b\nQuestion 10: c\nAnswer: d", split), [
    "Question 1: a\nAnswer: b",
    "Question 10: c\nAnswer: d",
  ]);
  // Without "Answer:" it is an ordinary list.
  assert.deepEqual(selfEditSegments("Question 1: a\nQuestion 2: b", split), ["Question 1: a", "Question 2: b"]);
  // Python's \d is Unicode: Arabic-Indic digits count as a question number.
  assert.deepEqual(selfEditSegments("a\nAnswer: b\nQuestion ٢: c", split), [
    "Question 1: a\nAnswer: b",
    "Question ٢: c",
  ]);
  // Without splitting, self-QA text is one segment.
  assert.deepEqual(selfEditSegments("a\nAnswer: b\nQuestion 2: c", noSplit), ["a\nAnswer: b\nQuestion 2: c"]);
});

test("real self-edits: counts of specific records (read by hand)", { skip: knowledgeDataMissing }, () => {
  const base = evalFile("base_val.json");
  // base_val #0 completion 0: five numbered implications, a "Sources:" line and four numbered sources.
  const genghis = buildTrainSequences(base[0].completions[0], base[0].context, base[0].title, split);
  assert.equal(genghis.length, 11);
  assert.equal(
    genghis[0],
    "Genghis Khan\n1. The Shah's decision to fragment his army led to its downfall, as the Mongols were able to defeat small groups instead of facing a unified defense.",
  );
  assert.equal(genghis[5], "Genghis Khan\nSources:");
  assert.equal(genghis[10], `Genghis Khan\n${base[0].context.trim()}`);
  assert.equal(buildTrainSequences(base[0].completions[0], base[0].context, base[0].title, noSplit).length, 2);

  const gpt = evalFile("gpt4_1_val.json");
  // gpt4_1_val #0 completion 0: "**Implications:**" then 14 numbered lines; the header line is dropped.
  const gptGenghis = buildTrainSequences(gpt[0].completions[0], gpt[0].context, gpt[0].title, split);
  assert.equal(gptGenghis.length, 15);
  assert.ok(gptGenghis[0].startsWith("Genghis Khan\n1. The Shah’s army suffered"));
  // gpt4_1_val #1 completion 0: three ---separated pieces (preamble, the list, a closing offer).
  const eu = gpt[1];
  const euNoSplit = buildTrainSequences(eu.completions[0], eu.context, eu.title, noSplit);
  assert.equal(euNoSplit.length, 4);
  assert.ok(euNoSplit[0].startsWith(`${eu.title}\nCertainly! Here is a list of implications`));
  assert.ok(euNoSplit[1].startsWith(`${eu.title}\n**Implications:**\n\n1. **Direct Effect`));
  // Split: 23 non-empty lines, none dropped (the second line is "**Implications:**", not "1.").
  assert.equal(buildTrainSequences(eu.completions[0], eu.context, eu.title, split).length, 24);
});

test("properties over every self-edit of base_val, gpt4_1_val and iter2_val", { skip: knowledgeDataMissing }, () => {
  for (const name of ["base_val.json", "gpt4_1_val.json", "iter2_val.json"]) {
    const records = evalFile(name);
    for (const [index, record] of records.entries()) {
      const prefix = `${record.title}\n`;
      for (const completion of record.completions) {
        for (const options of [split, noSplit]) {
          const sequences = buildTrainSequences(completion, record.context, record.title, options);
          const where = `${name} #${index} split=${options.splitNewlines}`;
          assert.equal(sequences.at(-1), prefix + record.context.trim(), where);
          assert.ok(sequences.length >= 2, where);
          for (const sequence of sequences) {
            assert.ok(sequence.startsWith(prefix), where);
            assert.notEqual(pythonStrip(sequence.slice(prefix.length)), "", `${where}: empty segment`);
          }
        }
      }
    }
  }
});

test("CPT pools reproduce the reference's training-sequence counts (§1.10: 2000, 2082, 2000, 400)", {
  skip: knowledgeDataMissing,
}, () => {
  const pooled = (name: string, k: number, splitNewlines = false) =>
    buildPooledTrainSequences(evalFile(name).slice(0, 200), { completionsPerArticle: k, splitNewlines }).length;
  assert.equal(pooled("base_val.json", 5), 2000);
  assert.equal(pooled("gpt4_1_val.json", 5), 2082);
  assert.equal(pooled("iter2_val.json", 5), 2000);
  assert.equal(pooled("naive_val.json", 0), 400);
  // Same naive data with k=5: all completions are blank, so each article falls back to one empty edit.
  assert.equal(pooled("naive_val.json", 5), 400);
  // With the paper's split_newlines=true the pools are much larger.
  assert.equal(pooled("base_val.json", 5, true), 8418);
  assert.equal(pooled("naive_val.json", 0, true), 200);
  assert.throws(
    () => buildPooledTrainSequences([], { completionsPerArticle: -1, splitNewlines: false }),
    /completionsPerArticle must be a non-negative integer/,
  );
});
