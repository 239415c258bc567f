import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import {
  readPassageFile,
  readPassagesAnyLayout,
  readSelfEditFile,
  readSftJsonl,
  readSquadV11File,
  squadV11ToPassages,
  writeSelfEditFile,
  writeSftJsonl,
} from "../../../src/domains/knowledge/data.js";
import { tempDir } from "../../io/fixtures.js";
import { knowledgeDataMissing, knowledgeDataPath } from "./shared-data.js";

const squadVal = knowledgeDataPath("squad_val.json");
const baseVal = knowledgeDataPath("synthetic_data", "eval", "base_val.json");
const naiveVal = knowledgeDataPath("synthetic_data", "eval", "naive_val.json");
const sftIter0 = knowledgeDataPath("synthetic_data", "EM_SFT", "sft_best1of5_iter0.jsonl");

function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

test("squad_val.json: 2067 passages, 10,570 questions, 48 titles, file order kept", {
  skip: knowledgeDataMissing,
}, () => {
  const passages = readPassageFile(squadVal);
  assert.equal(passages.length, 2067);
  assert.equal(
    passages.reduce((sum, passage) => sum + passage.questions.length, 0),
    10570,
  );
  assert.equal(new Set(passages.map((passage) => passage.title)).size, 48);
  assert.equal(passages[0].title, "Super Bowl 50");
  assert.deepEqual(passages[0].questions[0], {
    question: "Which NFL team represented the AFC at Super Bowl 50?",
    answer: "Denver Broncos",
  });
});

test("self-edit files: base_val has 200 × 5 completions starting with Genghis Khan; naive_val is empty edits", {
  skip: knowledgeDataMissing,
}, () => {
  const base = readSelfEditFile(baseVal);
  assert.equal(base.length, 200);
  assert.ok(base.every((record) => record.completions.length === 5));
  assert.equal(base[0].title, "Genghis Khan");
  assert.equal(
    base.reduce((sum, record) => sum + record.questions.length, 0),
    974,
  );
  const naive = readSelfEditFile(naiveVal);
  assert.equal(naive.length, 250);
  assert.ok(naive.every((record) => record.prompt === "" && record.completions.every((c) => c === "")));
  // The eval files share one article order.
  assert.deepEqual(
    naive.slice(0, 200).map((record) => record.context),
    base.map((record) => record.context),
  );
});

test("EM_SFT JSONL: 50 {prompt, completion} rows", { skip: knowledgeDataMissing }, () => {
  const rows = readSftJsonl(sftIter0);
  assert.equal(rows.length, 50);
  assert.ok(rows[0].prompt.startsWith("Let's read the following passage"));
  assert.ok(rows.every((row) => row.completion.length > 0));
});

test("a record missing context is rejected naming the file, record index and field", () => {
  const dir = tempDir("seal-knowledge-");
  const file = writeJson(dir, "passages.json", [
    { title: "A", context: "ctx", questions: [] },
    { title: "B", questions: [{ question: "q", answer: "a" }] },
  ]);
  assert.throws(
    () => readPassageFile(file),
    (error: Error) => {
      assert.ok(error.message.startsWith(`${file}: record 1: field "context"`), error.message);
      return true;
    },
  );
  const bad = writeJson(dir, "edits.json", [
    { title: "A", context: "c", questions: [], completions: ["x", 3], prompt: "p" },
  ]);
  assert.throws(() => readSelfEditFile(bad), /edits\.json: record 0: field "completions\.1"/);
  const missingPrompt = writeJson(dir, "edits2.json", [{ title: "A", context: "c", questions: [], completions: [] }]);
  assert.throws(() => readSelfEditFile(missingPrompt), /edits2\.json: record 0: field "prompt"/);
  const notArray = writeJson(dir, "object.json", { title: "A" });
  assert.throws(() => readPassageFile(notArray), /object\.json: expected a JSON array of records, got object/);
  const broken = path.join(dir, "broken.json");
  fs.writeFileSync(broken, "[{");
  assert.throws(() => readPassageFile(broken), /broken\.json: not valid JSON/);
  assert.throws(() => readPassageFile(path.join(dir, "absent.json")), /absent\.json: cannot read \(ENOENT\)/);
});

test("JSONL errors name the file and line; blank lines are skipped", () => {
  const dir = tempDir("seal-knowledge-");
  const file = path.join(dir, "sft.jsonl");
  fs.writeFileSync(file, '{"prompt":"p","completion":"c"}\n\n{"prompt":"p2"}\n');
  assert.throws(() => readSftJsonl(file), /sft\.jsonl: line 3 \(record 1\): field "completion"/);
  fs.writeFileSync(file, '{"prompt":"p","completion":"c"}\nnot json\n');
  assert.throws(() => readSftJsonl(file), /sft\.jsonl: line 2 \(record 1\): not valid JSON/);
});

test("official SQuAD v1.1 layout converts to passage records (first answer, file order)", {
  skip: knowledgeDataMissing,
}, () => {
  const dir = tempDir("seal-knowledge-");
  const squad = {
    version: "1.1",
    data: [
      {
        title: "First",
        paragraphs: [
          {
            context: "Alpha context.",
            qas: [
              {
                question: "Q1?",
                id: "a1",
                answers: [
                  { text: "alpha", answer_start: 0 },
                  { text: "Alpha", answer_start: 0 },
                ],
              },
            ],
          },
          { context: "Beta context.", qas: [] },
        ],
      },
      {
        title: "Second",
        paragraphs: [
          { context: "Gamma.", qas: [{ question: "Q2?", id: "b1", answers: [{ text: "g", answer_start: 0 }] }] },
        ],
      },
    ],
  };
  const expected = [
    { title: "First", context: "Alpha context.", questions: [{ question: "Q1?", answer: "alpha" }] },
    { title: "First", context: "Beta context.", questions: [] },
    { title: "Second", context: "Gamma.", questions: [{ question: "Q2?", answer: "g" }] },
  ];
  const file = writeJson(dir, "dev-v1.1.json", squad);
  assert.deepEqual(readSquadV11File(file), expected);
  assert.deepEqual(readPassagesAnyLayout(file), expected);
  assert.equal(readPassagesAnyLayout(squadVal).length, 2067);
});

test("a bad SQuAD layout is rejected naming the file, article, paragraph and field", {
  skip: knowledgeDataMissing,
}, () => {
  const dir = tempDir("seal-knowledge-");
  const noAnswers = writeJson(dir, "squad.json", {
    version: "1.1",
    data: [
      { title: "T", paragraphs: [{ context: "c", qas: [] }] },
      {
        title: "U",
        paragraphs: [
          { context: "c", qas: [] },
          { context: "d", qas: [{ question: "q", id: "x", answers: [] }] },
        ],
      },
    ],
  });
  assert.throws(
    () => readSquadV11File(noAnswers),
    /squad\.json: not SQuAD v1\.1 layout: article 1, paragraph 1: field "qas\.0\.answers": expected at least one answer/,
  );
  const noParagraphs = writeJson(dir, "squad2.json", { version: "1.1", data: [{ title: "T", context: "c" }] });
  assert.throws(
    () => readSquadV11File(noParagraphs),
    /squad2\.json: not SQuAD v1\.1 layout: article 0: field "paragraphs"/,
  );
  assert.throws(
    () => squadV11ToPassages([], "inline.json"),
    /inline\.json: not SQuAD v1\.1 layout: field \(top level\)/,
  );
  assert.throws(() => readSquadV11File(squadVal), /squad_val\.json: not SQuAD v1\.1 layout/);
});

test("an empty or whitespace-only gold answer is rejected when the file is read, naming the file, record and question", () => {
  const dir = tempDir("seal-knowledge-");
  const passage = (answer: string) => ({ title: "T", context: "c", questions: [{ question: "q", answer }] });
  for (const blank of ["", "  \n\t", "\u3000"]) {
    const file = writeJson(dir, "blank.json", [
      passage("x"),
      {
        ...passage("ok"),
        questions: [
          { question: "q", answer: "ok" },
          { question: "q2", answer: blank },
        ],
      },
    ]);
    for (const read of [readPassageFile, readPassagesAnyLayout]) {
      assert.throws(
        () => read(file),
        /blank\.json: record 1: field "questions\.1\.answer": the gold answer .* is empty: nothing to grade against/,
      );
    }
    const edits = writeJson(dir, "edits.json", [{ ...passage(blank), completions: [], prompt: "p" }]);
    assert.throws(() => readSelfEditFile(edits), /record 0: field "questions\.0\.answer": the gold answer/);
    const squad = writeJson(dir, "squad.json", {
      data: [{ title: "T", paragraphs: [{ context: "c", qas: [{ question: "q", answers: [{ text: blank }] }] }] }],
    });
    assert.throws(
      () => readPassagesAnyLayout(squad),
      /article 0, paragraph 0: field "qas\.0\.answers\.0\.text": the gold answer/,
    );
  }
  // a gold that only normalizes to "" is a real answer (vitamin A): kept
  assert.equal(readPassageFile(writeJson(dir, "a.json", [passage("A")]))[0].questions[0].answer, "A");
});

test("self-edit and SFT files round-trip through the atomic writers", () => {
  const dir = tempDir("seal-knowledge-");
  const records = [
    { title: "T", context: "c", questions: [{ question: "q", answer: "a" }], completions: ["x", ""], prompt: "p" },
  ];
  const file = path.join(dir, "edits.json");
  writeSelfEditFile(file, records);
  assert.deepEqual(readSelfEditFile(file), records);
  const rows = [
    { prompt: "p\n", completion: "c — ü" },
    { prompt: "", completion: "line\nbreak" },
  ];
  const jsonl = path.join(dir, "sft.jsonl");
  writeSftJsonl(jsonl, rows);
  assert.deepEqual(readSftJsonl(jsonl), rows);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["edits.json", "sft.jsonl"]);
});
