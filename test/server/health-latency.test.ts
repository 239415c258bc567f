/** /health answers at once while the model generates: the event loop never waits on model work. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestServer, type TestServer } from "./test-server.js";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

describe("/health under load", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  test("p99 well under 100 ms while 8 requests generate", async () => {
    const client = server.client();
    let generating = true;
    const load = Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        client.completions.create({
          model: "seal-mini",
          prompt: `Khotux ${i}`,
          max_tokens: 400,
          temperature: 1,
          seed: i,
          // A stop the model cannot write: every request decodes its full budget.
          stop: ["\u0001never"],
        }),
      ),
    ).finally(() => {
      generating = false;
    });
    const latencies: number[] = [];
    let busySamples = 0;
    while (generating) {
      const start = performance.now();
      const response = await fetch(`${server.baseUrl}/health`);
      const body = (await response.json()) as { generation: { running: number; queued: number } };
      latencies.push(performance.now() - start);
      if (body.generation.running + body.generation.queued > 0) busySamples++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await load;
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    process.stdout.write(
      `# /health while generating: ${latencies.length} samples (${busySamples} busy), p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms\n`,
    );
    assert.ok(busySamples >= 10, `measured while generating (${busySamples} samples saw work)`);
    assert.ok(p99 < 100, `p99 ${p99.toFixed(1)} ms`);
  });
});
