/**
 * How many independent inner loops (fresh LoRA adapters) train and answer together over one pass of the base model
 * (engine/train-many.ts), unless `--parallel-adapters` says otherwise. Results do not depend on it beyond float
 * rounding; only speed and memory do. Chosen by measurement: `npm run bench:inner-loops` (README "Benchmark").
 */
export const DEFAULT_PARALLEL_ADAPTERS = 8;
