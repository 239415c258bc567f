/** Option-value parsers for commander that reject bad input with a message naming what was expected. */
import { type Command, InvalidArgumentError } from "commander";
import { DEFAULT_PARALLEL_ADAPTERS } from "../seal/parallel-adapters.js";

export function parsePositiveInt(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError("expected a positive integer");
  return parsed;
}

export function parseNonNegativeInt(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed))
    throw new InvalidArgumentError("expected an integer ≥ 0");
  return parsed;
}

export function parsePositiveNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed <= 0)
    throw new InvalidArgumentError("expected a positive number");
  return parsed;
}

/** `--parallel-adapters K`: inner loops trained and answered together (speed and memory only; not in run.json). */
export function addParallelAdaptersOption(
  command: Command,
  description = "inner loops whose adapters train and answer together over one pass of the base model (results " +
    "equal one at a time up to float rounding; memory grows with k)",
): Command {
  return command.option("--parallel-adapters <k>", description, parsePositiveInt, DEFAULT_PARALLEL_ADAPTERS);
}
