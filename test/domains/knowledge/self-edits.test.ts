/** Self-edit generation mechanics (chunking, seeds, record log, resume, summary) with a fake sampler. */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { Passage } from "../../../src/domains/knowledge/data.js";
import { readSelfEditFile } from "../../../src/domains/knowledge/data.js";
import {
  chunkSeed,
  finishedRecords,
  generateSelfEdits,
  passageKey,
  passagesPerChunk,
  planChunks,
  type SampledCompletion,
  type SelfEditGenerationConfig,
  type SelfEditLogRecord,
  type SelfEditSampler,
  selectPassageIndices,
  selfEditLogRecordSchema,
  selfEditSummaryMarkdown,
  summarizeSelfEdits,
  writeSelfEditsOfRun,
} from "../../../src/domains/knowledge/self-edits.js";
import { openRecordLog } from "../../../src/seal/records.js";

const PASSAGES: Passage[] = Array.from({ length: 5 }, (_, i) => ({
  title: `Title ${i}`,
  context: `Context number ${i}.`,
  questions: [{ question: `Q${i}?`, answer: `A${i}` }],
}));

const CONFIG: SelfEditGenerationConfig = {
  style: "implications",
  chat: false,
  k: 2,
  temperature: 1,
  topP: 0.95,
  topK: 0,
  maxTokens: 8,
  seed: 7,
  batch: 4,
  start: 0,
  limit: null,
};

/** Completions that depend only on (prompt position, sample, seed); passage 3's second sample is whitespace. */
function fakeSampler(calls: { prompts: string[]; seed: number }[]): SelfEditSampler {
  return (prompts, seed) => {
    calls.push({ prompts, seed });
    return prompts.map((prompt, position) =>
      [0, 1].map(
        (sample): SampledCompletion => ({
          text:
            prompt.includes("Context number 3.") && sample === 1 ? " \n\t " : `  edit ${position}/${sample}/${seed}\n`,
          tokens: 3 + sample,
          finishReason: sample === 0 ? "stop_token" : "length",
        }),
      ),
    );
  };
}

function tempLog(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seal-self-edits-"));
  return { dir, file: path.join(dir, "self-edits.jsonl") };
}

const validate = (record: unknown) => selfEditLogRecordSchema.parse(record) as SelfEditLogRecord;

test("passage selection and chunks aligned to the data file", () => {
  assert.equal(passagesPerChunk(16, 5), 3);
  assert.equal(passagesPerChunk(4, 5), 1);
  assert.deepEqual(selectPassageIndices(5, 1, 2), [1, 2]);
  assert.deepEqual(selectPassageIndices(5, 3, null), [3, 4]);
  assert.deepEqual(selectPassageIndices(5, 3, 10), [3, 4]);
  assert.throws(() => selectPassageIndices(5, 5, null), /--start 5 is past the last passage \(the data has 5\)/);
  assert.deepEqual(planChunks([1, 2, 3, 4], 2), [
    { first: 0, indices: [1] },
    { first: 2, indices: [2, 3] },
    { first: 4, indices: [4] },
  ]);
  assert.equal(chunkSeed(0, 4), chunkSeed(0, 4));
  assert.notEqual(chunkSeed(0, 0), chunkSeed(0, 2));
  assert.notEqual(chunkSeed(0, 0), chunkSeed(1, 0));
  assert.ok(Number.isInteger(chunkSeed(123456, 99)) && chunkSeed(123456, 99) >= 0 && chunkSeed(123456, 99) < 2 ** 32);
});

test("one record per passage: stripped completions, exact prompt, chunk seeds; summary counts empty ones", () => {
  const { dir, file } = tempLog();
  const log = openRecordLog<SelfEditLogRecord>(file, { validate });
  const calls: { prompts: string[]; seed: number }[] = [];
  const indices = selectPassageIndices(PASSAGES.length, 0, null);
  let chunksDone = 0;
  generateSelfEdits({
    passages: PASSAGES,
    indices,
    config: CONFIG,
    promptFor: (passage) => `PROMPT ${passage.title}\n${passage.context}\n`,
    sampler: fakeSampler(calls),
    log,
    onChunkDone: () => chunksDone++,
  });
  assert.equal(chunksDone, 3);
  assert.deepEqual(
    calls.map((call) => call.seed),
    [chunkSeed(7, 0), chunkSeed(7, 2), chunkSeed(7, 4)],
  );
  assert.deepEqual([...log.keys()], [0, 1, 2, 3, 4].map(passageKey));
  const first = log.get("passage-1");
  assert.ok(first !== undefined);
  assert.deepEqual(first.record, {
    ...PASSAGES[1],
    completions: [`edit 1/0/${chunkSeed(7, 0)}`, `edit 1/1/${chunkSeed(7, 0)}`],
    prompt: "PROMPT Title 1\nContext number 1.\n",
  });
  assert.deepEqual(first.completionTokens, [3, 4]);
  assert.deepEqual(log.get("passage-3")?.record.completions[1], "", "whitespace-only completion is stored empty");
  log.close();

  // Reopened, the log validates and the reference-format file round-trips through readSelfEditFile.
  const reopened = openRecordLog<SelfEditLogRecord>(file, { validate });
  const records = finishedRecords(reopened, indices);
  const out = writeSelfEditsOfRun(dir, records);
  const read = readSelfEditFile(out);
  assert.equal(read.length, 5);
  assert.deepEqual(Object.keys(read[0]), ["title", "context", "questions", "completions", "prompt"]);
  const summary = summarizeSelfEdits(records, 5, CONFIG, out);
  assert.equal(summary.passages, 5);
  assert.equal(summary.completions, 10);
  assert.equal(summary.emptyCompletions, 1);
  assert.deepEqual(summary.passagesWithEmpty, [3]);
  assert.equal(summary.meanCompletionTokens, 3.5);
  assert.equal(summary.truncatedCompletions, 5);
  assert.match(selfEditSummaryMarkdown(summary), /empty completions \(scored as passage-only\) \| 1 \|/);
  reopened.close();
});

test("a chunk with records missing is sampled again whole and only the missing passages are appended", () => {
  const full = tempLog();
  const fullLog = openRecordLog<SelfEditLogRecord>(full.file, { validate });
  const options = {
    passages: PASSAGES,
    indices: [0, 1, 2, 3, 4],
    config: CONFIG,
    promptFor: (passage: Passage) => passage.context,
  };
  generateSelfEdits({ ...options, sampler: fakeSampler([]), log: fullLog });

  // A crash after passage-0..2 were appended: passage-3 (second of chunk [2, 3]) is missing.
  const partial = tempLog();
  const lines = fs.readFileSync(full.file, "utf8").split("\n");
  fs.writeFileSync(partial.file, `${lines.slice(0, 3).join("\n")}\n${lines[3].slice(0, 20)}`);
  const partialLog = openRecordLog<SelfEditLogRecord>(partial.file, { validate });
  assert.ok(partialLog.truncatedBytes > 0, "the torn line is cut");
  const calls: { prompts: string[]; seed: number }[] = [];
  generateSelfEdits({ ...options, sampler: fakeSampler(calls), log: partialLog });
  assert.deepEqual(
    calls.map((call) => [call.prompts.length, call.seed]),
    [
      [2, chunkSeed(7, 2)],
      [1, chunkSeed(7, 4)],
    ],
  );
  assert.deepEqual(
    finishedRecords(partialLog, options.indices).map((entry) => entry.record),
    finishedRecords(fullLog, options.indices).map((entry) => entry.record),
  );
  fullLog.close();
  partialLog.close();
});
