import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { openRecordLog } from "../../src/seal/records.js";
import { tempDir } from "../io/fixtures.js";

interface Loop {
  passage: number;
  accuracy: number;
}

function logPath(): string {
  return path.join(tempDir("seal-records-"), "records.jsonl");
}

describe("RecordLog", () => {
  it("appends records durably and reads them back in order", () => {
    const file = logPath();
    const log = openRecordLog<Loop>(file);
    assert.equal(log.size, 0);
    log.appendRecord("passage-0/edit-0", { passage: 0, accuracy: 0.5 });
    log.appendRecord("passage-0/edit-1", { passage: 0, accuracy: 0.25 });
    assert.ok(log.has("passage-0/edit-1"));
    assert.throws(() => log.appendRecord("passage-0/edit-1", { passage: 0, accuracy: 1 }), /already recorded/);
    assert.throws(() => log.appendRecord("", { passage: 0, accuracy: 1 }), /non-empty string/);
    log.close();

    const text = fs.readFileSync(file, "utf8");
    assert.equal(text.split("\n").length, 3);
    const reopened = openRecordLog<Loop>(file);
    assert.equal(reopened.truncatedBytes, 0);
    assert.deepEqual([...reopened.keys()], ["passage-0/edit-0", "passage-0/edit-1"]);
    assert.deepEqual(reopened.get("passage-0/edit-0"), { passage: 0, accuracy: 0.5 });
    assert.equal(reopened.get("missing"), undefined);
    assert.deepEqual(
      [...reopened].map((entry) => entry.key),
      ["passage-0/edit-0", "passage-0/edit-1"],
    );
    assert.deepEqual(reopened.values(), [
      { passage: 0, accuracy: 0.5 },
      { passage: 0, accuracy: 0.25 },
    ]);
    reopened.close();
  });

  it("replaceRecords rewrites the log atomically, keeping order and times; appending goes on after it", () => {
    const file = logPath();
    const log = openRecordLog<Loop>(file);
    for (let passage = 0; passage < 3; passage++) log.appendRecord(`p-${passage}`, { passage, accuracy: 0 });
    const timeOf = (key: string) => [...log].find((entry) => entry.key === key)?.time;
    const before = timeOf("p-1");
    log.replaceRecords(new Map([["p-1", { passage: 1, accuracy: 1 }]]));
    assert.deepEqual(log.get("p-1"), { passage: 1, accuracy: 1 });
    assert.equal(timeOf("p-1"), before);
    assert.throws(
      () => log.replaceRecords(new Map([["p-9", { passage: 9, accuracy: 1 }]])),
      /cannot replace record "p-9": it is not recorded/,
    );
    log.appendRecord("p-3", { passage: 3, accuracy: 0.5 });
    log.close();
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["records.jsonl"], "no temporary file is left");
    const reopened = openRecordLog<Loop>(file);
    assert.deepEqual(
      reopened.values().map((loop) => loop.accuracy),
      [0, 1, 0, 0.5],
    );
    reopened.close();
  });

  it("cuts away a half-written last line after a crash and keeps every finished record", () => {
    const file = logPath();
    const log = openRecordLog(file);
    for (let i = 0; i < 5; i++) log.appendRecord(`passage-${i}/edit-0/repeat-0`, { i, text: "a\nb \u00e9" });
    log.close();
    const half = '{"key":"passage-5/edit-0/repeat-0","time":"2026-01-01T00:00:00.000Z","record":{"i":5,"te';
    fs.appendFileSync(file, half);
    const sizeBefore = fs.statSync(file).size;

    const reopened = openRecordLog<{ i: number; text: string }>(file);
    assert.equal(reopened.truncatedBytes, Buffer.byteLength(half));
    assert.equal(fs.statSync(file).size, sizeBefore - Buffer.byteLength(half));
    assert.equal(reopened.size, 5);
    assert.ok(!reopened.has("passage-5/edit-0/repeat-0"));
    assert.deepEqual(reopened.get("passage-4/edit-0/repeat-0"), { i: 4, text: "a\nb \u00e9" });
    // appending continues on a clean line
    reopened.appendRecord("passage-5/edit-0/repeat-0", { i: 5, text: "" });
    reopened.close();
    const again = openRecordLog(file);
    assert.equal(again.size, 6);
    assert.equal(again.truncatedBytes, 0);
    again.close();
  });

  it("treats NUL padding at the end (power loss) as a torn tail", () => {
    const file = logPath();
    const log = openRecordLog(file);
    log.appendRecord("a", 1);
    log.close();
    fs.appendFileSync(file, Buffer.alloc(4096));
    const reopened = openRecordLog(file);
    assert.equal(reopened.truncatedBytes, 4096);
    assert.deepEqual([...reopened.keys()], ["a"]);
    reopened.close();
  });

  it("rejects corruption before the last line, naming file:line", () => {
    const file = logPath();
    const log = openRecordLog(file);
    for (const key of ["a", "b", "c"]) log.appendRecord(key, { key });
    log.close();
    const lines = fs.readFileSync(file, "utf8").split("\n");
    lines[1] = lines[1].slice(0, 10);
    fs.writeFileSync(file, lines.join("\n"));
    assert.throws(
      () => openRecordLog(file),
      (error: Error) => error.message.startsWith(`${file}:2: corrupt record log line, not valid JSON`),
    );

    fs.writeFileSync(file, '{"key":"a","record":1}\n{"record":2}\n{"key":"c","record":3}\n');
    assert.throws(() => openRecordLog(file), new RegExp(`${file}:2: .*field "key"`));
    fs.writeFileSync(file, '{"key":"a","record":1}\n{"key":"a","record":2}\n');
    assert.throws(() => openRecordLog(file), new RegExp(`${file}:2: key "a" is recorded twice`));
  });

  it("validates records on read, naming file:line", () => {
    const file = logPath();
    fs.writeFileSync(file, '{"key":"a","record":1}\n{"key":"b","record":"two"}\n');
    const validate = (record: unknown): number => {
      if (typeof record !== "number") throw new Error("expected a number");
      return record;
    };
    assert.throws(
      () => openRecordLog(file, { validate }),
      new RegExp(`${file}:2: record "b" is invalid: expected a number`),
    );
  });
});
