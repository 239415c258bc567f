/** Option-value parsers for commander that reject bad input with a message naming what was expected. */
import { InvalidArgumentError } from "commander";

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
