/**
 * Option-value parsers used by the generate/train/adapter commands, in the style of `../options.ts` (commander
 * reports the message as "option '--x <v>' argument 'v' is invalid. <message>").
 */
import { InvalidArgumentError } from "commander";
import { PROJECTIONS, type Projection } from "../../engine/config.js";
import { MAX_LORA_RANK } from "../../engine/lora-types.js";
import { isScheduleName, SCHEDULE_NAMES, type ScheduleName } from "../../engine/schedule.js";

function parseFinite(value: string): number {
  const parsed = Number(value);
  return value.trim() === "" || !Number.isFinite(parsed) ? Number.NaN : parsed;
}

export function parseNonNegativeNumber(value: string): number {
  const parsed = parseFinite(value);
  if (!(parsed >= 0)) throw new InvalidArgumentError("expected a number ≥ 0");
  return parsed;
}

/** A fraction in [0, 1). */
export function parseFraction(value: string): number {
  const parsed = parseFinite(value);
  if (!(parsed >= 0 && parsed < 1)) throw new InvalidArgumentError("expected a number in [0, 1)");
  return parsed;
}

/** A probability mass in (0, 1]. */
export function parseProbability(value: string): number {
  const parsed = parseFinite(value);
  if (!(parsed > 0 && parsed <= 1)) throw new InvalidArgumentError("expected a number in (0, 1]");
  return parsed;
}

/** A LoRA rank: a positive integer up to MAX_LORA_RANK (a typed-array error otherwise, once the model is loaded). */
export function parseLoraRank(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !(parsed >= 1 && parsed <= MAX_LORA_RANK))
    throw new InvalidArgumentError(`expected an integer in [1, ${MAX_LORA_RANK}]`);
  return parsed;
}

export function parseSchedule(value: string): ScheduleName {
  if (!isScheduleName(value)) throw new InvalidArgumentError(`expected one of ${SCHEDULE_NAMES.join(", ")}`);
  return value;
}

/**
 * LoRA target projections: a comma-separated list of PEFT module names (`q_proj,v_proj`), or `all-linear` (PEFT's
 * shorthand for every linear layer of the decoder, i.e. all seven projections).
 */
export function parseTargets(value: string): Projection[] {
  if (value.trim() === "all-linear") return [...PROJECTIONS];
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const unknown = names.filter((name) => !(PROJECTIONS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0)
    throw new InvalidArgumentError(
      `expected a comma-separated list of ${PROJECTIONS.join(", ")} (or all-linear)${unknown.length > 0 ? `; unknown: ${unknown.join(", ")}` : ""}`,
    );
  return PROJECTIONS.filter((projection) => names.includes(projection));
}
