/**
 * Replay against forgetting: an incremental consolidation trains the new documents' self-edits together with the
 * consolidated self-edits of a seeded sample of earlier documents (those of the parent version), so the continued
 * adapter keeps rehearsing what it already holds.
 */
import { Rng } from "../../engine/random.js";

/** A 32-bit seed from a base seed and labels (FNV-1a over the labels, mixed with the seed). */
export function derivedSeed(seed: number, ...labels: Array<string | number>): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (const label of labels) {
    for (const ch of `${label}\u0000`) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  }
  return h;
}

/** Up to `max` of `ids`, a seeded uniform sample in the ids' order (all of them when there are no more). */
export function sampleIds(ids: readonly string[], max: number, seed: number): string[] {
  if (ids.length <= max) return [...ids];
  const rng = new Rng(seed);
  const order = ids.map((_, i) => i);
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(order.length - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order
    .slice(0, max)
    .sort((a, b) => a - b)
    .map((i) => ids[i]);
}
