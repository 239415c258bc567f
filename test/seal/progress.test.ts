import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createProgress, formatDuration, type ProgressRecord } from "../../src/seal/progress.js";

function collector(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 60, write: (text: string) => chunks.push(text) } };
}

describe("progress", () => {
  it("writes valid JSONL at most every intervalSeconds when not on a TTY, rate over new work only", () => {
    const { chunks, stream } = collector(false);
    let now = 1_000_000;
    const progress = createProgress({
      total: 20,
      done: 10,
      name: "inner loops",
      stream,
      intervalSeconds: 5,
      now: () => now,
    });
    for (let i = 0; i < 10; i++) {
      now += 1000; // one item per second
      progress.tick(1, `passage-${i}`);
    }
    progress.finish();
    progress.finish();
    const text = chunks.join("");
    assert.ok(text.endsWith("\n"));
    const records = text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as ProgressRecord);
    assert.deepEqual(
      records.map((record) => record.event),
      ["start", "update", "update", "finish"],
    );
    assert.deepEqual(
      records.map((record) => record.done),
      [10, 15, 20, 20],
    );
    const first = records[1];
    assert.equal(first.type, "progress");
    assert.equal(first.name, "inner loops");
    assert.equal(first.total, 20);
    assert.equal(first.newDone, 5);
    assert.equal(first.rate, 1);
    assert.equal(first.etaSeconds, 5);
    assert.equal(first.label, "passage-4");
    assert.equal(records[0].rate, null);
    assert.equal(records[0].etaSeconds, null);
    assert.equal(records[3].etaSeconds, 0);
  });

  it("rewrites one line on a TTY and ends it on finish", () => {
    const { chunks, stream } = collector(true);
    let now = 0;
    const progress = createProgress({ total: 4, stream, now: () => now, name: "passages" });
    now += 2000;
    progress.tick(1, "passage-0");
    now += 2000;
    progress.tick();
    progress.finish();
    assert.ok(
      chunks.every((chunk, index) => chunk.startsWith("\r\x1b[2K") || (index === chunks.length - 1 && chunk === "\n")),
    );
    assert.equal(chunks.at(-1), "\n");
    assert.match(chunks[1], /passages 1\/4 25% · 0\.50\/s · ETA 6s · passage-0/);
    assert.match(chunks.at(-2)!, /passages 2\/4 50% · 0\.50\/s · in 4s/);
    assert.ok(chunks.every((chunk) => chunk.length <= 60 + 5));
  });

  it("formats durations", () => {
    assert.equal(formatDuration(5), "5s");
    assert.equal(formatDuration(75), "1m15s");
    assert.equal(formatDuration(3700), "1h01m");
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), "?");
  });
});
