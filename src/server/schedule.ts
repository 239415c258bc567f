/**
 * Scheduled consolidation windows: a cron expression (croner) or a fixed interval ("6h", "30m"). A tick while a
 * consolidation runs is skipped, not queued: the next window picks up whatever is pending then.
 */
import { Cron } from "croner";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "6h", "30m", "90s", "1d", "1h30m" → milliseconds; throws a message naming the flag for anything else. */
export function parseInterval(text: string, flag = "--consolidate-every"): number {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)];
  const joined = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || joined !== trimmed)
    throw new Error(`${flag}: expected a duration such as 6h, 30m, 90s or 1h30m, got "${text}"`);
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]], 0);
  if (ms < 1000) throw new Error(`${flag}: must be at least 1s, got "${text}"`);
  return ms;
}

export interface ConsolidationSchedule {
  /** The next planned window, or null when none. */
  next(): Date | null;
  describe(): string;
  stop(): void;
}

export function startSchedule(
  spec: { cron?: string; every?: string },
  run: () => Promise<unknown>,
  log: (line: string) => void,
): ConsolidationSchedule | null {
  if (spec.cron !== undefined && spec.every !== undefined)
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
  if (spec.every !== undefined) {
    const ms = parseInterval(spec.every);
    let nextAt = Date.now() + ms;
    const timer = setInterval(() => {
      nextAt = Date.now() + ms;
      tick();
    }, ms);
    timer.unref();
    return { next: () => new Date(nextAt), describe: () => `every ${spec.every}`, stop: () => clearInterval(timer) };
  }
  return null;
}
