/** `seal arc self-edit` end to end on a tiny random Llama model (its answers are not JSON, so all are resampled). */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { arcDataMissing, createTinyLlama, readRecords, writeArcFixture } from "../domains/arc/run-fixtures.js";
import { sealResult } from "./cli-fixtures.js";
import { assertSameRun, killAndResume } from "./kill-resume.js";

const missing = arcDataMissing();

interface TaskRecord {
  taskId: string;
  prompt: string;
  edits: unknown[];
  rejected: { response: string; reason: string }[];
  samples: number;
  generatedTokens: number;
}

describe("seal arc self-edit", { skip: missing ?? false }, () => {
  if (missing) return;
  const fixture = writeArcFixture("seal-cli-arc-self-edit-");
  after(() => fs.rmSync(fixture.root, { recursive: true, force: true }));
  const model = createTinyLlama(fixture.root);
  const args = (out: string, extra: string[] = []) => [
    "arc",
    "self-edit",
    "--model",
    model,
    "--challenges",
    fixture.challenges,
    "--solutions",
    fixture.solutions,
    "--out",
    out,
    ...extra,
  ];

  const TWO_TASKS = ["--tasks", "6150a2bd,5582e5ca", "--n", "1", "--max-samples", "2", "--max-tokens", "8"];
  const fullRun = path.join(fixture.root, "run");

  it("samples from the model, resamples what is not a config, and writes the run folder", () => {
    const out = fullRun;
    const result = sealResult(args(out, TWO_TASKS));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /2 tasks: 0 self-edits \(0 valid\) from 4 samples, 4 rejected/);
    assert.match(result.stderr, /task 6150a2bd: only 0 of 1 self-edits after 2 samples/);
    for (const name of ["run.json", "records.jsonl", "self_edits.json", "summary.md", "summary.json"])
      assert.ok(fs.existsSync(path.join(out, name)), name);
    const records = readRecords<TaskRecord>(out);
    assert.deepEqual(
      records.map((r) => r.taskId),
      ["6150a2bd", "5582e5ca"],
    );
    for (const record of records) {
      assert.equal(record.samples, 2);
      assert.equal(record.rejected.length, 2);
      assert.ok(record.generatedTokens > 0 && record.generatedTokens <= 16);
      assert.ok(record.prompt.startsWith("<|begin_of_text|>"));
    }
    const run = JSON.parse(fs.readFileSync(path.join(out, "run.json"), "utf8"));
    assert.equal(run.command, "arc self-edit");
    assert.equal(run.config.sampling.temperature, 0.8, "the reference's temperature");
    assert.deepEqual(run.config.tasks, ["6150a2bd", "5582e5ca"]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, "self_edits.json"), "utf8")), {
      "6150a2bd": {},
      "5582e5ca": {},
    });
  });

  it("kill -9 between a task's samples, between tasks and before self_edits.json is rewritten; --resume gives the same run", () => {
    const out = path.join(fixture.root, "killed");
    killAndResume(out, {
      args: (dir) => args(dir, TWO_TASKS),
      crashes: ["sample", "record:task-6150a2bd", "write:self_edits.json"],
    });
    assertSameRun(out, fullRun);
  });

  it("--help lists the reference's defaults", () => {
    const result = sealResult(["arc", "self-edit", "--help"]);
    assert.equal(result.status, 0);
    for (const text of ["--temperature <t>", "(default: 0.8)", "--max-tokens <n>", "(default: 128)", "--subset <name>"])
      assert.ok(result.stdout.includes(text), text);
  });

  it("names the file and the task for an unknown task, and asks for tasks", () => {
    const bad = sealResult(args(path.join(fixture.root, "bad"), ["--tasks", "6150a2bd,nosuch"]));
    assert.equal(bad.status, 1);
    assert.ok(bad.stderr.includes(fixture.challenges), bad.stderr);
    assert.match(bad.stderr, /no task nosuch/);
    const none = sealResult(args(path.join(fixture.root, "none")));
    assert.equal(none.status, 1);
    assert.match(none.stderr, /--tasks id,id or --subset train-1b\|eval-1b/);
    const subset = sealResult(args(path.join(fixture.root, "subset"), ["--subset", "nope"]));
    assert.equal(subset.status, 1);
    assert.match(subset.stderr, /expected one of train-1b, eval-1b/);
  });
});
