/**
 * Scheduled consolidation windows: a cron expression (croner) or a fixed interval (`--consolidate-every 6h`, parsed by the CLI). A tick while a
 * consolidation runs is skipped, not queued: the next window picks up whatever is pending then.
 */
import { Cron } from "croner";

export interface ConsolidationSchedule {
  /** The next planned window, or null when none. */
  next(): Date | null;
  describe(): string;
  stop(): void;
}

export function startSchedule(
  spec: { cron?: string; everyMs?: number },
  run: () => Promise<unknown>,
  log: (line: string) => void,
): ConsolidationSchedule | null {
  if (spec.cron !== undefined && spec.everyMs !== undefined)
    throw new Error("give --consolidate-cron or --consolidate-every, not both");
  const tick = () => {
    run().catch((error: unknown) =>
      log(`scheduled consolidation: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  if (spec.cron !== undefined) {
    let job: Cron;
    try {
      job = new Cron(spec.cron, { protect: true }, tick);
    } catch (error) {
      throw new Error(
        `--consolidate-cron "${spec.cron}": ${error instanceof Error ? error.message : String(error)} (e.g. "0 3 * * *")`,
      );
    }
    return { next: () => job.nextRun(), describe: () => `cron "${spec.cron}"`, stop: () => job.stop() };
  }
  if (spec.everyMs !== undefined) {
    const ms = spec.everyMs;
    if (!(ms >= 1000)) throw new Error(`--consolidate-every: must be at least 1s, got ${ms} ms`);
    let nextAt = Date.now() + ms;
    const timer = setInterval(() => {
      nextAt = Date.now() + ms;
      tick();
    }, ms);
    timer.unref();
    return { next: () => new Date(nextAt), describe: () => `every ${ms / 1000} s`, stop: () => clearInterval(timer) };
  }
  return null;
}
