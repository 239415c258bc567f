/** The benchmark's mechanics on a tiny model (no timing assertions: only that it runs and reports every key). */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { saveModel } from "../../src/io/model-files.js";
import { presetConfig } from "../../src/io/presets.js";
import { createRandomModel } from "../../src/io/random-model.js";

const script = fileURLToPath(new URL("../../bench/engine.js", import.meta.url));
/** The PyTorch peer of `bench --peer-pytorch` (a source file: this test runs from dist/test/bench). */
const peerScript = fileURLToPath(new URL("../../../bench/pytorch_peer.py", import.meta.url));
const PYTHON = "/usr/bin/python3";

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
    "train64_tokens_per_s",
    "train64_limit_tokens_per_s",
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

function peerUnavailable(): string | false {
  const probe = spawnSync(PYTHON, ["-c", "import numpy, torch"], { encoding: "utf8", timeout: 60_000 });
  if (probe.error) return `${PYTHON} could not be run (${probe.error.message})`;
  return probe.status === 0 ? false : `${PYTHON} has no torch and numpy`;
}

test("the PyTorch peer computes the reference's logits and reports a throughput", { skip: peerUnavailable() }, () => {
  const dir = mkdtempSync(join(tmpdir(), "seal-peer-"));
  try {
    const config = presetConfig("tiny-qwen2");
    saveModel(dir, { config, weights: createRandomModel(config, 0) });
    const peer = (...args: string[]) => {
      const lines = execFileSync(PYTHON, [peerScript, "--model", dir, ...args], { encoding: "utf8" }).trim();
      return JSON.parse(lines.split("\n").at(-1)!) as Record<string, number | string>;
    };
    // float32 (batch 1 through torch.mv, batch 2 through F.linear) against the float64 transformers re-implementation
    const check = peer("--workload", "check") as Record<string, number>;
    assert.ok(check.max_abs_diff_full < 1e-5, `full forward differs by ${check.max_abs_diff_full}`);
    assert.ok(check.max_abs_diff_cached < 1e-5, `cached decode differs by ${check.max_abs_diff_cached}`);
    const decode = peer("--workload", "decode16", "--quick", "--seq", "32");
    assert.equal(decode.workload, "decode16");
    assert.equal(typeof decode.pytorch_version, "string");
    for (const key of ["tokens_per_s", "peak_rss_mb"])
      assert.ok(Number(decode[key]) > 0 && Number.isFinite(decode[key]), `${key} = ${decode[key]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
