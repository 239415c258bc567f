/** `seal memory demo` end to end on one passage per batch: a live `seal serve` child, three consolidations. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { MemoryDemoSummary } from "../../src/cli/commands/memory-demo-run.js";
import { REPO_ROOT, tempDir } from "../io/fixtures.js";
import { CHILD_ENV } from "./cli-fixtures.js";

test("seal memory demo --passages 1: every condition measured, the forgotten document never retrieved", () => {
  const out = tempDir("seal-memory-demo-");
  try {
    const run = spawnSync(process.execPath, ["bin/seal.js", "memory", "demo", "--passages", "1", "--out", out], {
      cwd: REPO_ROOT,
      env: { ...CHILD_ENV, SEAL_API_KEY: "" },
      encoding: "utf8",
      timeout: 300_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as MemoryDemoSummary;
    assert.deepEqual(
      summary.rows.map((row) => [row.condition, row.retrieval]),
      [
        ["A before consolidation", "none"],
        ["A with retrieval (pending)", "pending"],
        ["A after consolidation 1", "none"],
        ["B before consolidation", "none"],
        ["B after consolidation 2", "none"],
        ["A after consolidation 2 (forgetting)", "none"],
        ["forgotten document before consolidation 3", "none"],
        ["forgotten document after consolidation 3", "none"],
        ["forgotten document, retrieval of all", "all"],
      ],
    );
    for (const row of summary.rows) {
      assert.ok(row.questions > 0 && row.correct <= row.questions, JSON.stringify(row));
      assert.equal(row.accuracy, row.correct / row.questions);
      assert.ok(row.lower !== null && row.upper !== null && row.lower <= row.accuracy && row.accuracy <= row.upper);
    }
    // Retrieval of pending documents finds each question's own passage (its name is in the question).
    const pending = summary.rows[1];
    assert.equal(pending.ownDocumentRetrieved, pending.questions);
    assert.equal(summary.rows[8].ownDocumentRetrieved, 0);
    assert.equal(summary.forgottenRetrieved, 0);
    assert.equal(summary.consolidations.length, 3);
    assert.equal(summary.consolidations[2].mode, "rebuild");
    for (const c of summary.consolidations) assert.ok(["promoted", "rejected"].includes(c.state), c.state);
    assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /\| A after consolidation 1 \| none \|/);
    assert.match(run.stdout, /\| condition \| retrieval \|/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
