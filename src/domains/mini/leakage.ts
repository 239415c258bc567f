/**
 * Leakage check between the pretraining corpus and the held-out people: no rl/eval person's full name may occur in
 * any pretraining text (and so none of their facts). Names are matched as adjacent word pairs, which catches a
 * name anywhere (possessive, title line, inside a prompt) in one pass over each text.
 */
import type { World } from "./world.js";

export interface Leak {
  /** Index of the text in the list checked. */
  index: number;
  name: string;
  split: "rl" | "eval";
}

/** Every occurrence of a held-out (rl/eval) person's full name in `texts`. */
export function findHeldOutNames(world: World, texts: readonly string[]): Leak[] {
  const heldOut = new Map<string, "rl" | "eval">();
  for (const person of world.people) if (person.split !== "pretrain") heldOut.set(person.name, person.split);
  const leaks: Leak[] = [];
  texts.forEach((text, index) => {
    const words = text.match(/\p{L}+/gu) ?? [];
    for (let i = 0; i + 1 < words.length; i++) {
      const name = `${words[i]} ${words[i + 1]}`;
      const split = heldOut.get(name);
      if (split !== undefined) leaks.push({ index, name, split });
    }
  });
  return leaks;
}

/** Throws when a held-out name occurs in the pretraining texts. */
export function assertNoLeakage(world: World, texts: readonly string[]): void {
  const leaks = findHeldOutNames(world, texts);
  if (leaks.length > 0) {
    const first = leaks[0];
    throw new Error(
      `leakage: ${leaks.length} occurrence(s) of held-out people in the pretraining texts, e.g. ${first.split} person "${first.name}" in text ${first.index}`,
    );
  }
}
