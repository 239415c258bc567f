/** Latency samples and the /health prober that runs beside the load (one request at a time, on a fixed beat). */

export interface LatencySummary {
  samples: number;
  /** Milliseconds (null when nothing was measured). */
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  /** Probes that failed or did not answer 200. */
  failures: number;
}

/** Nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile of no samples");
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples: readonly number[], failures: number): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  if (sorted.length === 0) return { samples: 0, p50_ms: null, p99_ms: null, max_ms: null, failures };
  return {
    samples: sorted.length,
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted[sorted.length - 1]),
    failures,
  };
}

/** Polls GET {url}/health every `intervalMs` until stopped; each probe's time is from send to full body. */
export class HealthProbe {
  private readonly samples: number[] = [];
  private failures = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly intervalMs = 100,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (response.status === 200) this.samples.push(performance.now() - started);
        else this.failures++;
      } catch {
        this.failures++;
      }
      const wait = this.intervalMs - (performance.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async stop(): Promise<LatencySummary> {
    this.running = false;
    await this.loop;
    return summarize(this.samples, this.failures);
  }
}
