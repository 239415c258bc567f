/** The knowledge inner-loop benchmark's mechanics on a tiny model (no timing assertions). */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../bench/knowledge.js", import.meta.url));

test("bench:knowledge --json reports one inner loop with its breakdown", () => {
  const output = execFileSync(process.execPath, [script, "--preset", "tiny-qwen2", "--epochs", "1", "--json"], {
    encoding: "utf8",
  });
  const result = JSON.parse(output.trim()) as Record<string, number>;
  for (const key of ["train_seconds", "answer_seconds", "inner_loop_seconds", "inner_loops_per_hour", "train_tokens"])
    assert.ok(Number.isFinite(result[key]) && result[key] > 0, `${key} = ${result[key]}`);
  assert.equal(result.sequences, 6, "a passage whose first self-edit has five lines, plus the passage itself");
});
