/** The ARC inner-loop benchmark's mechanics on a tiny model (no timing assertions). */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { arcDataMissing } from "../domains/arc/run-fixtures.js";

const script = fileURLToPath(new URL("../../bench/arc.js", import.meta.url));

test("bench:arc --quick --json measures part of an inner loop and extrapolates it", (t) => {
  const missing = arcDataMissing();
  if (missing) return t.skip(missing);
  const output = execFileSync(process.execPath, [script, "--quick", "--json", "--task", "6150a2bd"], {
    encoding: "utf8",
    env: { OMP_WAIT_POLICY: "passive", ...process.env },
  });
  const result = JSON.parse(output.trim()) as Record<string, number | string>;
  assert.equal(result.preset, "tiny-llama");
  assert.equal(result.task, "6150a2bd");
  for (const key of [
    "data_seconds",
    "train_tokens_per_s",
    "train_seconds",
    "prefill_tokens_per_s",
    "predict_seconds",
    "inner_loop_seconds",
    "inner_loops_per_hour",
  ])
    assert.ok(typeof result[key] === "number" && result[key] > 0, `${key} = ${result[key]}`);
  assert.equal(result.measured_train_steps, 2);
  assert.ok((result.total_steps as number) > 2, "the loop has more steps than were measured");
  assert.ok((result.examples as number) > 0 && (result.examples as number) <= 250, "the reference's cap");
});
