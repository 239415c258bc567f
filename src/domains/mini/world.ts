/**
 * The SEAL-mini world: invented people, each with one value per attribute from value sets shared by the whole
 * world, split by person into `pretrain` (facts appear in the pretraining corpus), `rl` (passages for ReST-EM) and
 * `eval` (held-out passages). Value sets are small, so every value is a frequent token in pretraining, while each
 * person → value fact is unique to that person. Seeded and deterministic; WORLD_VERSION changes whenever the same
 * seed would give a different world or different texts.
 */
import {
  ATTRIBUTES,
  type Attribute,
  type Attributes,
  EMPLOYER_KINDS,
  FIELDS,
  HOBBIES,
  UNIVERSITY_KINDS,
} from "./attributes.js";
import { inventWords } from "./names.js";
import { pick, rngFor, shuffled } from "./random.js";
import { type Pronoun, templateWords } from "./templates.js";

export const WORLD_VERSION = 1;

export const SPLITS = ["pretrain", "rl", "eval"] as const;
export type Split = (typeof SPLITS)[number];

export interface Person {
  /** Index in `world.people`. */
  id: number;
  split: Split;
  firstName: string;
  surname: string;
  /** `firstName surname`, unique in the world: the passage title. */
  name: string;
  pronoun: Pronoun;
  attributes: Attributes;
}

export interface WorldOptions {
  seed: number;
  pretrainPeople: number;
  rlPeople: number;
  evalPeople: number;
  firstNames: number;
  surnames: number;
  cities: number;
  universities: number;
  employers: number;
  /** At most FIELDS.length. */
  fields: number;
  /** At most HOBBIES.length. */
  hobbies: number;
  firstYear: number;
  years: number;
}

export const DEFAULT_WORLD_OPTIONS: Readonly<WorldOptions> = {
  seed: 0,
  pretrainPeople: 2000,
  rlPeople: 150,
  evalPeople: 100,
  firstNames: 120,
  surnames: 240,
  cities: 40,
  universities: 30,
  employers: 40,
  fields: 30,
  hobbies: 30,
  firstYear: 1900,
  years: 60,
};

export interface World {
  version: number;
  options: WorldOptions;
  values: Readonly<Record<Attribute, readonly string[]>>;
  firstNames: readonly string[];
  surnames: readonly string[];
  /** Pretrain people first, then rl, then eval. */
  people: readonly Person[];
}

function checkOptions(options: WorldOptions): void {
  for (const [key, value] of Object.entries(options)) {
    if (!Number.isInteger(value) || (key !== "seed" && value < 0))
      throw new Error(`world option ${key} must be a non-negative integer, got ${value}`);
  }
  if (options.fields < 1 || options.fields > FIELDS.length) throw new Error(`fields must be 1..${FIELDS.length}`);
  if (options.hobbies < 1 || options.hobbies > HOBBIES.length) throw new Error(`hobbies must be 1..${HOBBIES.length}`);
  for (const key of ["firstNames", "surnames", "cities", "universities", "employers", "years"] as const)
    if (options[key] < 1) throw new Error(`world option ${key} must be at least 1`);
  if (options.pretrainPeople < 1) throw new Error("pretrainPeople must be at least 1");
  const combinations = options.firstNames * options.surnames;
  const people = options.pretrainPeople + options.rlPeople + options.evalPeople;
  if (people > combinations / 2)
    throw new Error(
      `${people} people need more names: firstNames × surnames = ${combinations} (at least twice as many)`,
    );
}

/** Value sets: invented cities, universities and employers; real-word fields and hobbies; a range of years. */
function valueSets(options: WorldOptions, taken: Set<string>): Record<Attribute, string[]> {
  const rng = rngFor(options.seed, "values");
  const cities = inventWords(rng, options.cities, taken);
  const universities = inventWords(rng, options.universities, taken).map(
    (stem, i) => `${stem} ${UNIVERSITY_KINDS[i % UNIVERSITY_KINDS.length]}`,
  );
  const employers = inventWords(rng, options.employers, taken).map(
    (stem, i) => `${stem} ${EMPLOYER_KINDS[i % EMPLOYER_KINDS.length]}`,
  );
  return {
    birthCity: cities,
    birthYear: Array.from({ length: options.years }, (_, i) => String(options.firstYear + i)),
    university: universities,
    field: shuffled(rng, FIELDS).slice(0, options.fields),
    employer: employers,
    hobby: shuffled(rng, HOBBIES).slice(0, options.hobbies),
  };
}

export function generateWorld(overrides: Partial<WorldOptions> = {}): World {
  const options: WorldOptions = { ...DEFAULT_WORLD_OPTIONS, ...overrides };
  checkOptions(options);
  // invented words never equal a template word or a real-word value
  const taken = new Set<string>([...templateWords(), ...FIELDS, ...HOBBIES]);
  for (const kind of [...UNIVERSITY_KINDS, ...EMPLOYER_KINDS]) taken.add(kind.toLowerCase());
  const nameRng = rngFor(options.seed, "names");
  const firstNames = inventWords(nameRng, options.firstNames, taken);
  const surnames = inventWords(nameRng, options.surnames, taken);
  const values = valueSets(options, taken);

  const rng = rngFor(options.seed, "people");
  const usedNames = new Set<string>();
  const people: Person[] = [];
  // rl and eval names reuse only name parts that pretrain people have, so every name token is seen in pretraining
  let firstPool: readonly string[] = firstNames;
  let surnamePool: readonly string[] = surnames;
  for (const split of SPLITS) {
    const count =
      split === "pretrain" ? options.pretrainPeople : split === "rl" ? options.rlPeople : options.evalPeople;
    if (split !== "pretrain") {
      const pretrain = people.filter((p) => p.split === "pretrain");
      firstPool = firstNames.filter((n) => pretrain.some((p) => p.firstName === n));
      surnamePool = surnames.filter((n) => pretrain.some((p) => p.surname === n));
    }
    for (let i = 0; i < count; i++) {
      let firstName: string;
      let surname: string;
      let attempts = 0;
      do {
        if (++attempts > 10000)
          throw new Error(`no unused name left for the ${split} split; raise firstNames/surnames`);
        firstName = pick(rng, firstPool);
        surname = pick(rng, surnamePool);
      } while (usedNames.has(`${firstName} ${surname}`));
      const name = `${firstName} ${surname}`;
      usedNames.add(name);
      const attributes = {} as Record<Attribute, string>;
      for (const attribute of ATTRIBUTES) attributes[attribute] = pick(rng, values[attribute]);
      people.push({
        id: people.length,
        split,
        firstName,
        surname,
        name,
        pronoun: rng.uniform() < 0.5 ? "he" : "she",
        attributes,
      });
    }
  }
  return { version: WORLD_VERSION, options, values, firstNames, surnames, people };
}

export function peopleIn(world: World, split: Split): Person[] {
  return world.people.filter((person) => person.split === split);
}
