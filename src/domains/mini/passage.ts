/**
 * Passages in the knowledge data format: title = the person's name; context = every attribute stated once, in a
 * random order, with varied templates, some sentences stating two facts, and pronouns after the first sentence.
 * This single-phrasing, pronoun-heavy form is what makes "train on the passage alone" weak (Allen-Zhu & Li,
 * Physics of LMs 3.1): the facts are bound to "he"/"she" in one wording, not to the name in many.
 */
import type { Rng } from "../../engine/random.js";
import type { Passage, QuestionAnswer } from "../knowledge/data.js";
import { ATTRIBUTES, type Attribute } from "./attributes.js";
import { pick, shuffled } from "./random.js";
import {
  combinedFactTemplates,
  type FactTemplate,
  questionTemplates,
  renderFact,
  renderNamed,
  singleFactTemplates,
} from "./templates.js";
import type { Person } from "./world.js";

export interface PassageStyle {
  /** Chance that a sentence after the first refers to the person by pronoun instead of the full name. */
  pronounProbability: number;
  /** Chance of trying to state two facts in one sentence (each combined template tried once). */
  combineProbability: number;
}

export const PASSAGE_STYLE: Readonly<PassageStyle> = { pronounProbability: 0.7, combineProbability: 0.35 };

export interface RenderedText {
  /** The sentences in order; the text is their join with single spaces. */
  sentences: string[];
  text: string;
}

/** A biography: each attribute stated exactly once, in random order and wording. */
export function renderBiography(person: Person, rng: Rng, style: PassageStyle): RenderedText {
  const remaining = new Set<Attribute>(ATTRIBUTES);
  const chosen: FactTemplate[] = [];
  for (const template of shuffled(rng, combinedFactTemplates())) {
    if (template.attributes.every((a) => remaining.has(a)) && rng.uniform() < style.combineProbability) {
      chosen.push(template);
      for (const a of template.attributes) remaining.delete(a);
    }
  }
  for (const attribute of remaining) chosen.push(pick(rng, singleFactTemplates(attribute)));
  const sentences = shuffled(rng, chosen).map((template, index) =>
    renderFact(
      template,
      person,
      index > 0 && rng.uniform() < style.pronounProbability ? "pronoun" : "name",
      person.attributes,
    ),
  );
  return { sentences, text: sentences.join(" ") };
}

/** One closed-book question per attribute (in ATTRIBUTES order), each from a random paraphrase. */
export function renderQuestions(person: Person, rng: Rng): QuestionAnswer[] {
  return ATTRIBUTES.map((attribute) => ({
    question: renderNamed(pick(rng, questionTemplates(attribute)), person.name),
    answer: person.attributes[attribute],
  }));
}

export interface RenderedPassage {
  passage: Passage;
  /** The context's sentences (the "copy the passage" self-edit uses them). */
  sentences: string[];
}

export function renderPassage(person: Person, rng: Rng, style: PassageStyle = PASSAGE_STYLE): RenderedPassage {
  const biography = renderBiography(person, rng, style);
  return {
    passage: { title: person.name, context: biography.text, questions: renderQuestions(person, rng) },
    sentences: biography.sentences,
  };
}
