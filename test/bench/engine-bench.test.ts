/** The benchmark's mechanics on a tiny model (no timing assertions: only that it runs and reports every key). */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../bench/engine.js", import.meta.url));

test("bench --json prints one line with every documented key", () => {
  const output = execFileSync(
    process.execPath,
    [script, "--preset", "tiny-qwen2", "--quick", "--json", "--seq", "32"],
    {
      encoding: "utf8",
    },
  );
  const lines = output.trim().split("\n");
  assert.equal(lines.length, 1);
  const result = JSON.parse(lines[0]) as Record<string, number>;
  for (const key of [
    "sgemm_gflops",
    "mem_read_gbs",
    "train_tokens_per_s",
    "train_limit_tokens_per_s",
    "prefill_tokens_per_s",
    "prefill_limit_tokens_per_s",
    "decode_tokens_per_s",
    "decode_limit_tokens_per_s",
    "decode16_tokens_per_s",
    "peak_rss_mb",
  ]) {
    assert.equal(typeof result[key], "number", key);
    assert.ok(Number.isFinite(result[key]) && result[key] > 0, `${key} = ${result[key]}`);
  }
});
