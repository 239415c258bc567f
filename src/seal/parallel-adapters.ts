/**
 * How many independent inner loops (fresh LoRA adapters) train and answer together over one pass of the base model
 * (engine/train-many.ts), unless `--parallel-adapters` says otherwise. Results do not depend on it beyond float
 * rounding; only speed and memory do. Chosen by measurement: `npm run bench:inner-loops` (README "Benchmark").
 */
export const DEFAULT_PARALLEL_ADAPTERS = 8;

/** Memory for the adapters held at once (a run's K), unless a run says otherwise. */
export const PARALLEL_ADAPTER_BUDGET_BYTES = 4 * 1024 ** 3;

/** Bytes per adapter parameter while training (weights, gradient, two AdamW moments) and while answering. */
export const TRAINING_BYTES_PER_PARAMETER = 16;
export const ANSWERING_BYTES_PER_PARAMETER = 4;

/** `requested` adapters at once, or fewer when that many would not fit the budget; never below 1. */
export function parallelAdaptersWithin(
  requested: number,
  bytesPerAdapter: number,
  budgetBytes = PARALLEL_ADAPTER_BUDGET_BYTES,
): number {
  return Math.max(1, Math.min(requested, Math.floor(budgetBytes / bytesPerAdapter)));
}
