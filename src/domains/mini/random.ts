/** Seeded choices over the engine's Rng, and seed derivation so each person and purpose has its own stream. */
import { Rng } from "../../engine/random.js";

/**
 * A seed for one purpose under a root seed (FNV-1a over the parts). Deriving per-person streams keeps a person's
 * texts unchanged when unrelated options (sizes, fractions) change.
 */
export function deriveSeed(seed: number, ...parts: readonly (number | string)[]): number {
  let hash = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (const part of parts) {
    const text = `${typeof part}:${part}|`;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash;
}

export function rngFor(seed: number, ...parts: readonly (number | string)[]): Rng {
  return new Rng(deriveSeed(seed, ...parts));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error("pick: empty list");
  return items[rng.int(items.length)];
}

/** Fisher–Yates on a copy. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** `count` distinct items in random order. */
export function sampleDistinct<T>(rng: Rng, items: readonly T[], count: number): T[] {
  if (count > items.length) throw new Error(`sampleDistinct: ${count} of ${items.length}`);
  return shuffled(rng, items).slice(0, count);
}

/** A key drawn with probability proportional to its (non-negative) weight. */
export function weightedChoice<K extends string>(rng: Rng, weights: Readonly<Record<K, number>>): K {
  const keys = Object.keys(weights) as K[];
  const total = keys.reduce((sum, key) => sum + weights[key], 0);
  if (!(total > 0) || keys.some((key) => !(weights[key] >= 0)))
    throw new Error(`weights must be non-negative with a positive sum, got ${JSON.stringify(weights)}`);
  let draw = rng.uniform() * total;
  for (const key of keys) {
    draw -= weights[key];
    if (draw < 0) return key;
  }
  return keys.filter((key) => weights[key] > 0).at(-1)!;
}
