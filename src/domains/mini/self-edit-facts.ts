/**
 * What a self-edit says about its person's facts, read off its text: an attribute is `correct` when its true value
 * occurs as whole words, `wrong` when it does not but another value of the same set does (an invented value), and
 * missing otherwise. Values are invented words or fixed real words, so whole-word matching is exact enough to tell
 * a self-edit that copies the passage from one that makes values up — the skill RL has to select for.
 */
import type { SelfEditRecord } from "../knowledge/data.js";
import { ATTRIBUTES, type Attribute } from "./attributes.js";
import type { Person, World } from "./world.js";

export interface SelfEditFacts {
  correct: Attribute[];
  wrong: Attribute[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether `value` occurs in `text` as whole words (not inside a longer word or number). */
export function mentionsValue(text: string, value: string): boolean {
  return new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(value)}(?![\\p{L}\\p{N}])`, "u").test(text);
}

export function selfEditFacts(world: World, person: Person, text: string): SelfEditFacts {
  const correct: Attribute[] = [];
  const wrong: Attribute[] = [];
  for (const attribute of ATTRIBUTES) {
    const truth = person.attributes[attribute];
    if (mentionsValue(text, truth)) correct.push(attribute);
    else if (world.values[attribute].some((value) => value !== truth && mentionsValue(text, value)))
      wrong.push(attribute);
  }
  return { correct, wrong };
}

export interface SelfEditFactRates {
  selfEdits: number;
  /** Mean fraction of the person's facts stated with the true value. */
  correct: number;
  /** Mean fraction stated only with another value. */
  wrong: number;
}

/** Mean fact rates over self-edits, each given with the person it is about. */
export function selfEditFactRates(world: World, items: readonly { person: Person; text: string }[]): SelfEditFactRates {
  let correct = 0;
  let wrong = 0;
  for (const { person, text } of items) {
    const facts = selfEditFacts(world, person, text);
    correct += facts.correct.length / ATTRIBUTES.length;
    wrong += facts.wrong.length / ATTRIBUTES.length;
  }
  const n = items.length;
  return { selfEdits: n, correct: n === 0 ? 0 : correct / n, wrong: n === 0 ? 0 : wrong / n };
}

/** Fact rates of every completion in self-edit records, matched to their people by title (the person's name). */
export function recordFactRates(world: World, records: readonly SelfEditRecord[]): SelfEditFactRates {
  const byName = new Map(world.people.map((person) => [person.name, person]));
  const items = records.flatMap((record) => {
    const person = byName.get(record.title);
    if (person === undefined) throw new Error(`self-edit record "${record.title}" names no person of the world`);
    return record.completions.map((text) => ({ person, text }));
  });
  return selfEditFactRates(world, items);
}

/** One passage's pick in a ReST-EM round's selection.json (the fields read here). */
export interface RoundPick {
  title: string;
  best: number | null;
  kept: boolean;
}

/** The self-edits a ReST-EM round kept for SFT: each kept pick's best completion, as one-completion records. */
export function chosenRecords(records: readonly SelfEditRecord[], picks: readonly RoundPick[]): SelfEditRecord[] {
  const byTitle = new Map(records.map((record) => [record.title, record]));
  return picks
    .filter((pick) => pick.kept && pick.best !== null)
    .map((pick) => {
      const record = byTitle.get(pick.title);
      const completion = record?.completions[pick.best as number];
      if (record === undefined || completion === undefined)
        throw new Error(`selection names self-edit ${pick.best} of "${pick.title}", which the round did not sample`);
      return { ...record, completions: [completion] };
    });
}
