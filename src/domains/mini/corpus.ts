/**
 * The pretraining corpus of the mini world: documents about `pretrain` people only (never rl/eval people), mixing
 * - bio: biographies in several phrasings and sentence orders per person (mostly full names: the multi-phrasing,
 *   permuted, full-name augmentation that makes knowledge extractable, Physics of LMs 3.1), some with a title line
 *   as in the inner loop's training sequences;
 * - facts: a title line and one full-name statement per line (the shape of a self-edit's training sequences);
 * - qa: closed-book QA texts, `closedBookQaPrompt(name, question) + answer`, for a fraction of the people only, so
 *   that answering about people known from prose alone is learnt as a skill;
 * - demonstration: implications prompts with self-edits of uneven quality (demonstrations.ts); some people appear
 *   in nothing else, so their self-edits can only be written from the passage in the prompt, as for held-out people
 *   (copying, not recalling);
 * - world: sentences about the value sets ("Veltra is a city."), which teach each answer's type.
 * Each document is meant to be followed by the tokenizer's EOS in training (it ends QA answers and self-edits).
 */
import { closedBookQaPrompt } from "../knowledge/prompts.js";
import { ATTRIBUTES } from "./attributes.js";
import {
  DEFAULT_DEMONSTRATION_OPTIONS,
  type DemonstrationOptions,
  type DemonstrationQuality,
  sampleDemonstration,
} from "./demonstrations.js";
import { factStatements } from "./fact-lines.js";
import { type PassageStyle, renderBiography, renderPassage } from "./passage.js";
import { rngFor, sampleDistinct, shuffled } from "./random.js";
import { questionTemplates, renderNamed } from "./templates.js";
import { type Person, peopleIn, type World } from "./world.js";

export const CORPUS_KINDS = ["bio", "facts", "qa", "demonstration", "world"] as const;
export type CorpusKind = (typeof CORPUS_KINDS)[number];

export interface CorpusDocument {
  kind: CorpusKind;
  text: string;
  /** The pretrain person the document is about (null for world documents). */
  personId: number | null;
  /** For demonstrations: the quality class of the completion. */
  quality?: DemonstrationQuality;
}

export interface CorpusOptions {
  /** Seed of the corpus's own choices (default: the world's seed). */
  seed: number;
  biosPerPerson: number;
  bioStyle: PassageStyle;
  /** Chance that a biography starts with a `name\n` title line. */
  bioTitleProbability: number;
  factDocsPerPerson: number;
  /** Fraction of pretrain people with QA documents. */
  qaPeopleFraction: number;
  /** QA documents per attribute for those people (distinct question paraphrases, at most 4). */
  qaPerAttribute: number;
  /** Put between the QA prompt (ending "Answer:\n") and the answer; "" is the inner loop's exact layout. */
  answerPrefix: string;
  /** Fraction of pretrain people known only from a self-edit demonstration (no bio, facts or QA). */
  demonstrationOnlyFraction: number;
  /** Fraction of the other pretrain people with a self-edit demonstration too. */
  demonstrationFraction: number;
  demonstrations: DemonstrationOptions;
  /** Documents per value set of world prose (0: none). */
  worldDocsPerValueSet: number;
}

export const DEFAULT_CORPUS_OPTIONS: Readonly<Omit<CorpusOptions, "seed">> = {
  biosPerPerson: 3,
  bioStyle: { pronounProbability: 0.3, combineProbability: 0.35 },
  bioTitleProbability: 0.5,
  factDocsPerPerson: 1,
  qaPeopleFraction: 0.5,
  qaPerAttribute: 1,
  answerPrefix: "",
  demonstrationOnlyFraction: 0.1,
  demonstrationFraction: 0.5,
  demonstrations: DEFAULT_DEMONSTRATION_OPTIONS,
  worldDocsPerValueSet: 3,
};

export function corpusOptions(world: World, overrides: Partial<CorpusOptions> = {}): CorpusOptions {
  const options = { seed: world.options.seed, ...DEFAULT_CORPUS_OPTIONS, ...overrides };
  for (const key of [
    "qaPeopleFraction",
    "demonstrationOnlyFraction",
    "demonstrationFraction",
    "bioTitleProbability",
  ] as const)
    if (!(options[key] >= 0 && options[key] <= 1)) throw new Error(`corpus option ${key} must be in [0, 1]`);
  for (const key of ["biosPerPerson", "factDocsPerPerson", "qaPerAttribute", "worldDocsPerValueSet"] as const)
    if (!Number.isInteger(options[key]) || options[key] < 0)
      throw new Error(`corpus option ${key} must be a non-negative integer`);
  return options;
}

/** World prose: one sentence per value of a set, shuffled, per document. */
function worldDocuments(world: World, options: CorpusOptions): CorpusDocument[] {
  const sentenceSets: string[][] = [
    world.values.birthCity.map((v) => `${v} is a city.`),
    world.values.university.map((v) => `${v} is a university.`),
    world.values.employer.map((v) => `${v} is a company.`),
    world.values.field.map((v) => `One field of work is ${v}.`),
    world.values.hobby.map((v) => `A popular pastime is ${v}.`),
    world.values.birthYear.map((v) => `The year ${v} came before ${Number(v) + 1}.`),
  ];
  const docs: CorpusDocument[] = [];
  sentenceSets.forEach((sentences, set) => {
    for (let i = 0; i < options.worldDocsPerValueSet; i++)
      docs.push({
        kind: "world",
        text: shuffled(rngFor(options.seed, "world", set, i), sentences).join(" "),
        personId: null,
      });
  });
  return docs;
}

/** The pretraining documents, shuffled (deterministic in the world and the options). */
export function buildPretrainCorpus(world: World, overrides: Partial<CorpusOptions> = {}): CorpusDocument[] {
  const options = corpusOptions(world, overrides);
  const people = peopleIn(world, "pretrain");
  const chosen = (purpose: string, from: readonly Person[], fraction: number) =>
    new Set(
      shuffled(rngFor(options.seed, purpose), from)
        .slice(0, Math.round(fraction * from.length))
        .map((p) => p.id),
    );
  const demonstrationOnly = chosen("demonstration-only-people", people, options.demonstrationOnlyFraction);
  const regular = people.filter((p) => !demonstrationOnly.has(p.id));
  const withQa = chosen("qa-people", regular, options.qaPeopleFraction);
  const withDemonstration = chosen("demonstration-people", regular, options.demonstrationFraction);
  for (const id of demonstrationOnly) withDemonstration.add(id);
  const docs: CorpusDocument[] = [];
  for (const person of people) {
    const bios = demonstrationOnly.has(person.id) ? 0 : options.biosPerPerson;
    const factDocs = demonstrationOnly.has(person.id) ? 0 : options.factDocsPerPerson;
    for (let i = 0; i < bios; i++) {
      const rng = rngFor(options.seed, "bio", person.id, i);
      const bio = renderBiography(person, rng, options.bioStyle).text;
      const text = rng.uniform() < options.bioTitleProbability ? `${person.name}\n${bio}` : bio;
      docs.push({ kind: "bio", text, personId: person.id });
    }
    for (let i = 0; i < factDocs; i++) {
      const rng = rngFor(options.seed, "facts", person.id, i);
      const lines = shuffled(
        rng,
        ATTRIBUTES.flatMap((attribute) => factStatements(person, attribute, 1, rng)),
      );
      docs.push({ kind: "facts", text: `${person.name}\n${lines.join("\n")}`, personId: person.id });
    }
    if (withQa.has(person.id)) {
      const rng = rngFor(options.seed, "qa", person.id);
      for (const attribute of ATTRIBUTES) {
        const templates = questionTemplates(attribute);
        for (const template of sampleDistinct(rng, templates, Math.min(options.qaPerAttribute, templates.length))) {
          const prompt = closedBookQaPrompt(person.name, renderNamed(template, person.name));
          const text = prompt + options.answerPrefix + person.attributes[attribute];
          docs.push({ kind: "qa", text, personId: person.id });
        }
      }
    }
    if (withDemonstration.has(person.id)) {
      const rng = rngFor(options.seed, "demonstration", person.id);
      const demonstration = sampleDemonstration(world, person, renderPassage(person, rng), rng, options.demonstrations);
      docs.push({
        kind: "demonstration",
        text: demonstration.prompt + demonstration.completion,
        personId: person.id,
        quality: demonstration.quality,
      });
    }
  }
  docs.push(...worldDocuments(world, options));
  return shuffled(rngFor(options.seed, "order"), docs);
}
