/**
 * Passages and oracle self-edit records for a split, in the knowledge-incorporation formats (data.ts): passage
 * files for `seal knowledge generate/evaluate/train`, self-edit files for `seal knowledge evaluate --self-edits`.
 * Each person's passage has its own seeded stream, so it does not change with the split sizes.
 */
import type { Passage, SelfEditRecord } from "../knowledge/data.js";
import { buildSelfEditPrompt } from "../knowledge/prompts.js";
import { DEFAULT_ORACLE_OPTIONS, type OracleOptions, oracleSelfEdit } from "./oracle.js";
import { type RenderedPassage, renderPassage } from "./passage.js";
import { rngFor } from "./random.js";
import { type Person, peopleIn, type Split, type World } from "./world.js";

/** The passage of a person (the same one every time for a given world). */
export function passageOf(world: World, person: Person): RenderedPassage {
  return renderPassage(person, rngFor(world.options.seed, "passage", person.id));
}

export function splitPassages(world: World, split: Split): Passage[] {
  return peopleIn(world, split).map((person) => passageOf(world, person).passage);
}

/**
 * Self-edit records whose completions are `count` oracle self-edits per passage (different wordings), with the
 * `implications` prompt the model would have been given.
 */
export function oracleRecords(
  world: World,
  split: Split,
  count = 1,
  options: OracleOptions = DEFAULT_ORACLE_OPTIONS,
): SelfEditRecord[] {
  return peopleIn(world, split).map((person) => {
    const { passage } = passageOf(world, person);
    const completions = Array.from({ length: count }, (_, k) =>
      oracleSelfEdit(person, rngFor(world.options.seed, "oracle", person.id, k), options),
    );
    return { ...passage, completions, prompt: buildSelfEditPrompt("implications", passage.title, passage.context) };
  });
}
