/**
 * Learning-rate schedules, matching Hugging Face transformers (`transformers/optimization.py`, `get_scheduler`)
 * value for value. Each schedule is a multiplier λ(step) of the base learning rate:
 *
 * - `constant`: λ = 1. HF's `get_scheduler("constant", …)` ignores `num_warmup_steps`; so does this.
 * - `constant_with_warmup`: λ = step / max(1, warmup) while step < warmup, then 1.
 * - `linear`: the same warmup, then λ = max(0, (total − step) / max(1, total − warmup)).
 * - `cosine` (`num_cycles` = 0.5): the same warmup, then with progress = (step − warmup) / max(1, total − warmup),
 *   λ = max(0, 0.5 · (1 + cos(π · num_cycles · 2 · progress))).
 *
 * Which step uses which value: HF builds these as `torch.optim.lr_scheduler.LambdaLR`, whose constructor
 * (last_epoch = -1) immediately performs one `step()`, setting the lr to base · λ(0). The Trainer's inner loop
 * then runs `optimizer.step()` followed by `lr_scheduler.step()` (transformers `trainer.py`,
 * `_inner_training_loop`). So the optimizer update with 0-based index k uses base · λ(k): with warmup > 0 the very
 * first update has lr 0, and the last of `total` updates uses λ(total − 1) (for `linear`,
 * base / (total − warmup), not 0). `learningRateAt(k, …)` returns exactly that lr.
 *
 * Like HF, nothing stops a caller from asking past `totalSteps`: `linear` stays 0 there, while `cosine` rises
 * again (progress > 1), exactly as HF's formula does.
 */

export type ScheduleName = "constant" | "constant_with_warmup" | "linear" | "cosine";

export const SCHEDULE_NAMES: readonly ScheduleName[] = ["constant", "constant_with_warmup", "linear", "cosine"];

export function isScheduleName(value: unknown): value is ScheduleName {
  return typeof value === "string" && (SCHEDULE_NAMES as readonly string[]).includes(value);
}

export interface ScheduleOptions {
  schedule: ScheduleName;
  /** The learning rate the schedule scales (HF's optimizer `lr`). */
  baseLr: number;
  /** Number of warmup steps (HF `num_warmup_steps`); see `warmupStepsFromRatio`. */
  warmupSteps: number;
  /** Number of optimizer updates in the whole run (HF `num_training_steps`). */
  totalSteps: number;
}

/** HF's `cosine` uses half a cosine period: from 1 at the end of warmup down to 0 at `totalSteps`. */
const COSINE_NUM_CYCLES = 0.5;

function requireCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer ≥ 0, got ${value}`);
}

/** The schedule's multiplier λ(step) of the base learning rate (HF's `lr_lambda`). */
export function learningRateMultiplier(step: number, opts: Omit<ScheduleOptions, "baseLr">): number {
  const { schedule, warmupSteps, totalSteps } = opts;
  requireCount("step", step);
  requireCount("warmupSteps", warmupSteps);
  requireCount("totalSteps", totalSteps);
  if (schedule === "constant") return 1;
  if (!isScheduleName(schedule)) {
    throw new RangeError(
      `unknown learning-rate schedule ${JSON.stringify(schedule)}; expected one of ${SCHEDULE_NAMES}`,
    );
  }
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  switch (schedule) {
    case "constant_with_warmup":
      return 1;
    case "linear":
      return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    case "cosine": {
      const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * COSINE_NUM_CYCLES * 2 * progress)));
    }
  }
}

/** The learning rate used by the optimizer update with 0-based index `step` (see the note at the top). */
export function learningRateAt(step: number, opts: ScheduleOptions): number {
  if (!Number.isFinite(opts.baseLr) || opts.baseLr < 0) {
    throw new RangeError(`baseLr must be a finite number ≥ 0, got ${opts.baseLr}`);
  }
  return opts.baseLr * learningRateMultiplier(step, opts);
}

/**
 * Warmup steps from a warmup ratio, as HF's `TrainingArguments.get_warmup_steps` does when only a ratio is given:
 * ceil(ratio · totalSteps).
 */
export function warmupStepsFromRatio(ratio: number, totalSteps: number): number {
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new RangeError(`warmup ratio must be a number in [0, 1], got ${ratio}`);
  }
  requireCount("totalSteps", totalSteps);
  return Math.ceil(totalSteps * ratio);
}
