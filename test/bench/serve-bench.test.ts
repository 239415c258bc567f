/**
 * bench:serve's mechanics on the shipped SEAL-mini with a 3 s load (no throughput assertions: only that it runs
 * against a real `seal serve`, reports every figure, and no request failed).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../bench/serve.js", import.meta.url));

interface Latency {
  samples: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  failures: number;
}

test("bench:serve --duration 3 --json reports the load, the engine figure and /health with no errors", () => {
  const run = spawnSync(
    process.execPath,
    [script, "--duration", "3", "--max-tokens", "8", "--consolidation-timeout", "3", "--json"],
    { encoding: "utf8", timeout: 600_000 },
  );
  assert.equal(run.status, 0, `exit ${run.status}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  const lines = run.stdout.trim().split("\n");
  assert.equal(lines.length, 1, run.stdout);
  const result = JSON.parse(lines[0]) as Record<string, unknown> & {
    engine: Record<string, number>;
    health_under_load: Latency;
    consolidation: { measured: boolean; note: string; health: Latency | null };
  };
  assert.equal(result.errors, 0);
  assert.equal(result.connections, 16);
  for (const key of [
    "requests_per_s",
    "latency_p50_ms",
    "latency_p99_ms",
    "generated_tokens_per_s",
    "ratio_to_engine",
    "ratio_to_engine_same_work",
    "prompt_tokens",
  ]) {
    const value = result[key];
    assert.ok(typeof value === "number" && Number.isFinite(value) && value > 0, `${key} = ${value}`);
  }
  assert.ok((result.requests as number) >= 16, `requests = ${result.requests}`);
  assert.ok(result.engine.tokens_per_s > 0);
  assert.equal(result.engine.prompts, 16);
  assert.equal(result.engine.prompt_tokens, result.prompt_tokens);
  assert.equal(result.engine.max_tokens, 8);
  const sameWork = result.engine_same_work as unknown as Record<string, number>;
  assert.equal(sameWork.max_tokens, Math.max(1, Math.round(result.mean_completion_tokens as number)));
  const health = result.health_under_load;
  assert.ok(health.samples > 0 && health.failures === 0, JSON.stringify(health));
  assert.ok(health.p50_ms !== null && health.p99_ms !== null && health.max_ms !== null);
  assert.ok(health.p50_ms <= health.p99_ms && health.p99_ms <= health.max_ms);
  // Measured when the server can consolidate; otherwise the report says why not.
  const consolidation = result.consolidation;
  assert.ok(consolidation.measured, consolidation.note);
  assert.ok(consolidation.health !== null && consolidation.health.failures === 0, JSON.stringify(consolidation));
});
