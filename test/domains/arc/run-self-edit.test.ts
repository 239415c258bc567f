import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it, test } from "node:test";
import { readChallengesFile } from "../../../src/domains/arc/data.js";
import { selfEditPrompt } from "../../../src/domains/arc/messages.js";
import { type ArcSelfEditRequest, runArcSelfEdit, selfEditPromptIds } from "../../../src/domains/arc/run-self-edit.js";
import type { ArcSelfEditTaskRecord } from "../../../src/domains/arc/self-edit-records.js";
import {
  type ArcSelfEditSampler,
  REFERENCE_SELF_EDIT_SAMPLING,
  readArcSelfEditFile,
} from "../../../src/domains/arc/self-edit-sampling.js";
import { loadTokenizer } from "../../../src/io/tokenizer.js";
import { llama32TokenizerDir } from "../../io/llama32-tokenizer.js";
import {
  ALL_TOKENS_CONFIG,
  ARC_TEST_TASKS,
  arcDataMissing,
  INVALID_CONFIG,
  readRecords,
  SILENT,
  summaryWithoutTiming,
  TRAINING_CONFIG,
  writeArcFixture,
} from "./run-fixtures.js";

const missing = arcDataMissing();

/** A stand-in for the model: per task (prompt), the answers of `stream` in order, cycling. */
function scriptedSampler(stream: readonly string[]): ArcSelfEditSampler {
  const consumed = new Map<string, number>();
  return (prompt, count) => {
    const offset = consumed.get(prompt) ?? 0;
    consumed.set(prompt, offset + count);
    return Array.from({ length: count }, (_, i) => {
      const text = stream[(offset + i) % stream.length];
      return { text, tokens: [text.length, offset + i] };
    });
  };
}

const GARBAGE = "Sure! Here is the configuration you asked for.";
const TRUNCATED = '{"data_generation": {"use_basic_augmentations": true, "use_size_aug';
const VALID = JSON.stringify(TRAINING_CONFIG);
const FENCED = `\`\`\`json\n${JSON.stringify(ALL_TOKENS_CONFIG, null, 2)}\n\`\`\``;
const INVALID = JSON.stringify(INVALID_CONFIG);
/** n=3: round 1 keeps VALID of three answers; round 2 keeps FENCED and INVALID (parseable, trains nothing). */
const STREAM = [GARBAGE, TRUNCATED, VALID, FENCED, INVALID];

describe("arc self-edit run", { skip: missing ?? false }, () => {
  if (missing) return;
  const fixture = writeArcFixture("seal-arc-self-edit-");
  after(() => fs.rmSync(fixture.root, { recursive: true, force: true }));
  // the model is only fingerprinted when a stand-in sampler answers
  const modelDir = path.join(fixture.root, "model");
  fs.mkdirSync(modelDir);
  fs.writeFileSync(path.join(modelDir, "config.json"), "{}");

  const request = (outDir: string, extra: Partial<ArcSelfEditRequest> = {}): ArcSelfEditRequest => ({
    modelDir,
    challengesPath: fixture.challenges,
    solutionsPath: fixture.solutions,
    outDir,
    resume: false,
    selection: { taskIds: [...ARC_TEST_TASKS] },
    config: { sampling: { ...REFERENCE_SELF_EDIT_SAMPLING, n: 3 }, batch: 4 },
    sampler: scriptedSampler(STREAM),
    progressStream: SILENT,
    ...extra,
  });
  const full = path.join(fixture.root, "full");
  const summary = runArcSelfEdit(request(full));

  it("resamples unparseable answers until n configs exist, and keeps parseable invalid ones", () => {
    assert.equal(summary.complete, true);
    assert.equal(summary.edits, 9);
    assert.equal(summary.samples, 15, "5 answers per task: 3, then 2 more");
    assert.equal(summary.rejected, 6);
    assert.deepEqual(summary.rejectedReasons, {
      "no JSON object with data_generation or training in the text": 3,
      "truncated JSON object": 3,
    });
    assert.equal(summary.configs.valid, 6);
    assert.equal(summary.configs.invalid, 3);
    const records = readRecords<ArcSelfEditTaskRecord>(full);
    assert.deepEqual(
      records.map((r) => r.taskId),
      [...ARC_TEST_TASKS],
    );
    for (const record of records) {
      assert.deepEqual(
        record.edits.map((e) => e.response),
        [VALID, FENCED, INVALID],
      );
      assert.deepEqual(
        record.rejected.map((r) => r.response),
        [GARBAGE, TRUNCATED],
      );
    }
  });

  it("writes self_edits.json in the reference's layout, with the hand-built prompt of the demonstrations", () => {
    const file = JSON.parse(fs.readFileSync(path.join(full, "self_edits.json"), "utf8"));
    assert.deepEqual(Object.keys(file), [...ARC_TEST_TASKS]);
    const tasks = readChallengesFile(fixture.challenges);
    for (const task of tasks) {
      const entries = file[task.id];
      assert.deepEqual(Object.keys(entries), ["0", "1", "2"]);
      for (const entry of Object.values(entries) as Record<string, unknown>[]) {
        assert.deepEqual(Object.keys(entry).sort(), ["config", "prompt", "response", "token_ids"]);
        assert.equal(entry.prompt, selfEditPrompt(task.train));
        assert.ok((entry.prompt as string).startsWith("<|begin_of_text|><|start_header_id|>system"));
      }
      assert.deepEqual(entries["0"].config, TRAINING_CONFIG);
      assert.deepEqual(entries["1"].config, ALL_TOKENS_CONFIG, "the object inside the code fence");
      assert.deepEqual(entries["2"].config, INVALID_CONFIG);
      assert.deepEqual(entries["0"].token_ids, [VALID.length, 2]);
    }
    const read = readArcSelfEditFile(path.join(full, "self_edits.json"));
    assert.equal(read.get("44f52bb0")?.length, 3);
    assert.equal(read.get("44f52bb0")?.[1].response, FENCED);
  });

  it("--skip-repeated-configs samples again when a config repeats", () => {
    const out = path.join(fixture.root, "dedupe");
    const result = runArcSelfEdit(
      request(out, {
        selection: { taskIds: ["6150a2bd"] },
        config: { sampling: { ...REFERENCE_SELF_EDIT_SAMPLING, n: 2, skipRepeatedConfigs: true }, batch: 4 },
        sampler: scriptedSampler([VALID, VALID, FENCED]),
      }),
    );
    assert.equal(result.edits, 2);
    assert.equal(result.samples, 3);
    assert.deepEqual(result.rejectedReasons, { "repeated config": 1 });
    assert.equal(result.perTask[0].distinct, 2);
  });

  it("stops at --max-samples when the model never writes a config", () => {
    const out = path.join(fixture.root, "garbage");
    const result = runArcSelfEdit(
      request(out, {
        selection: { taskIds: ["6150a2bd", "5582e5ca"] },
        config: { sampling: { ...REFERENCE_SELF_EDIT_SAMPLING, n: 2, maxSamples: 5 }, batch: 4 },
        sampler: scriptedSampler([GARBAGE, TRUNCATED]),
      }),
    );
    assert.equal(result.edits, 0);
    assert.equal(result.samples, 10);
    assert.deepEqual(result.tasksShort, ["6150a2bd", "5582e5ca"]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, "self_edits.json"), "utf8")), {
      "6150a2bd": {},
      "5582e5ca": {},
    });
  });

  it("a run interrupted after its first task and resumed ends like the uninterrupted run", () => {
    const out = path.join(fixture.root, "resumed");
    assert.throws(
      () =>
        runArcSelfEdit(
          request(out, {
            afterTask: () => {
              throw new Error("simulated crash");
            },
          }),
        ),
      /simulated crash/,
    );
    assert.equal(readRecords(out).length, 1);
    assert.throws(() => runArcSelfEdit(request(out)), /not empty.*--resume/);
    const lines: string[] = [];
    runArcSelfEdit(request(out, { resume: true, log: (line) => lines.push(line) }));
    assert.ok(
      lines.some((line) => /resuming .*: 1 of 3 tasks done/.test(line)),
      lines.join("\n"),
    );
    assert.deepEqual(summaryWithoutTiming(out), summaryWithoutTiming(full));
    assert.equal(
      fs.readFileSync(path.join(out, "self_edits.json"), "utf8"),
      fs.readFileSync(path.join(full, "self_edits.json"), "utf8"),
    );
  });

  it("names the file and the task for an unknown task, and asks for a task choice", () => {
    assert.throws(
      () => runArcSelfEdit(request(path.join(fixture.root, "bad"), { selection: { taskIds: ["6150a2bd", "nope"] } })),
      (error: Error) => error.message.includes(fixture.challenges) && /no task nope/.test(error.message),
    );
    assert.throws(
      () => runArcSelfEdit(request(path.join(fixture.root, "none"), { selection: {} })),
      /--tasks id,id or --subset/,
    );
    assert.throws(
      () => runArcSelfEdit(request(path.join(fixture.root, "subset"), { selection: { subset: "train-1b" } })),
      /no task 4be741c5/,
      "the subset's tasks must be in the challenges file",
    );
  });
});

test("the self-edit prompt is encoded with its one BOS (the tokenizer adds no second)", () => {
  const tokenizer = loadTokenizer(llama32TokenizerDir());
  const prompt = selfEditPrompt([{ input: [[1, 2]], output: [[2, 1]] }]);
  const ids = selfEditPromptIds(tokenizer, prompt);
  assert.equal(ids[0], 128000);
  assert.notEqual(ids[1], 128000);
  assert.equal(ids.filter((id) => id === 128000).length, 1);
  assert.deepEqual(tokenizer.encode(prompt).slice(0, 2), [128000, 128000], "what adding special tokens would do");
  assert.equal(tokenizer.decode(ids, { cleanUpTokenizationSpaces: false }), prompt);
});
