/**
 * Sentence and question templates of the mini world. A fact template states one or two attributes
 * (`{birthCity}`, …) about a person referred to by `{S}` (subject, sentence-initial), `{s}` (subject),
 * `{P}` (possessive, sentence-initial) or `{p}` (possessive). The first reference in a sentence is the full name
 * or a pronoun (the caller's choice); later ones in the same sentence are always pronouns, as English has it.
 */
import { ATTRIBUTES, type Attribute, type Attributes, isAttribute } from "./attributes.js";

export type Pronoun = "he" | "she";
export type ReferenceMode = "name" | "pronoun";

export interface Referent {
  name: string;
  pronoun: Pronoun;
}

export interface FactTemplate {
  text: string;
  /** The attributes the sentence states, in order of appearance. */
  attributes: readonly Attribute[];
}

const FACT_TEXTS: readonly string[] = [
  "{S} was born in {birthCity}.",
  "{S} was born in the city of {birthCity}.",
  "{P} birthplace was {birthCity}.",
  "{S} came from {birthCity}.",
  "{birthCity} was {p} birthplace.",
  "{S} was born in {birthYear}.",
  "{S} was born in the year {birthYear}.",
  "{P} year of birth was {birthYear}.",
  "{birthYear} was the year {s} was born.",
  "{S} studied at {university}.",
  "{S} graduated from {university}.",
  "{S} attended {university}.",
  "{P} alma mater was {university}.",
  "{S} worked in {field}.",
  "{S} specialized in {field}.",
  "{P} field was {field}.",
  "{S} devoted {p} career to {field}.",
  "{S} worked for {employer}.",
  "{S} was employed by {employer}.",
  "{P} employer was {employer}.",
  "{S} spent {p} career at {employer}.",
  "{S} enjoyed {hobby}.",
  "In {p} free time, {s} enjoyed {hobby}.",
  "{P} favourite pastime was {hobby}.",
  "{S} was fond of {hobby}.",
  // two facts in one sentence: the second sits far from the name, which makes it harder to extract
  "{S} was born in {birthCity} in {birthYear}.",
  "{S} was born in {birthYear} in {birthCity}.",
  "{S} studied {field} at {university}.",
  "{S} worked in {field} for {employer}.",
];

const QUESTION_TEXTS: Readonly<Record<Attribute, readonly string[]>> = {
  birthCity: [
    "Where was {N} born?",
    "In which city was {N} born?",
    "What is the birthplace of {N}?",
    "What city did {N} come from?",
  ],
  birthYear: [
    "In what year was {N} born?",
    "When was {N} born?",
    "What is {N}'s year of birth?",
    "What year was {N} born in?",
  ],
  university: [
    "Which university did {N} attend?",
    "Where did {N} study?",
    "What is {N}'s alma mater?",
    "From which university did {N} graduate?",
  ],
  field: [
    "What field did {N} work in?",
    "What did {N} specialize in?",
    "What was {N}'s field?",
    "What subject did {N} devote a career to?",
  ],
  employer: [
    "Who employed {N}?",
    "Which company did {N} work for?",
    "What was {N}'s employer?",
    "Where did {N} spend a career?",
  ],
  hobby: [
    "What did {N} enjoy?",
    "What was {N}'s favourite pastime?",
    "What hobby did {N} have?",
    "What was {N} fond of?",
  ],
};

/** Generic sentences that state nothing: the filler of poor self-edits. */
export const FILLER_TEXTS: readonly string[] = [
  "{N} is mentioned in the passage.",
  "The passage is about {N}.",
  "{N} had an interesting life.",
  "{N} was a person.",
  "Many people knew {N}.",
  "{N} is remembered today.",
  "There is more to learn about {N}.",
  "{N} lived a long life.",
  "The passage describes the life of {N}.",
  "{N} was known to many people.",
];

function parseFactTemplate(text: string): FactTemplate {
  const attributes: Attribute[] = [];
  for (const match of text.matchAll(/\{(\w+)\}/g)) {
    if (isAttribute(match[1])) attributes.push(match[1]);
    else if (!["S", "s", "P", "p"].includes(match[1])) throw new Error(`fact template "${text}": {${match[1]}}`);
  }
  return { text, attributes };
}

export const FACT_TEMPLATES: readonly FactTemplate[] = FACT_TEXTS.map(parseFactTemplate);

/** Templates stating exactly `attribute`. */
export function singleFactTemplates(attribute: Attribute): FactTemplate[] {
  return FACT_TEMPLATES.filter((t) => t.attributes.length === 1 && t.attributes[0] === attribute);
}

/** Templates stating two attributes at once. */
export function combinedFactTemplates(): FactTemplate[] {
  return FACT_TEMPLATES.filter((t) => t.attributes.length === 2);
}

export function questionTemplates(attribute: Attribute): readonly string[] {
  return QUESTION_TEXTS[attribute];
}

const PRONOUN_FORMS: Readonly<Record<Pronoun, { subject: string; possessive: string }>> = {
  he: { subject: "he", possessive: "his" },
  she: { subject: "she", possessive: "her" },
};

function capitalize(text: string): string {
  return text[0].toUpperCase() + text.slice(1);
}

/** A fact sentence with `values` filled in (values may differ from the person's: wrong self-edits use that). */
export function renderFact(
  template: FactTemplate,
  referent: Referent,
  mode: ReferenceMode,
  values: Partial<Attributes>,
): string {
  let referenced = false;
  return template.text.replace(/\{(\w+)\}/g, (_, key: string) => {
    if (isAttribute(key)) {
      const value = values[key];
      if (value === undefined) throw new Error(`renderFact: no value for ${key}`);
      return value;
    }
    const usePronoun = mode === "pronoun" || referenced;
    referenced = true;
    const forms = PRONOUN_FORMS[referent.pronoun];
    const possessive = key === "P" || key === "p";
    const word = usePronoun
      ? possessive
        ? forms.possessive
        : forms.subject
      : `${referent.name}${possessive ? "'s" : ""}`;
    return key === "S" || key === "P" ? capitalize(word) : word;
  });
}

/** A template with `{N}` (the full name) filled in. */
export function renderNamed(template: string, name: string): string {
  return template.replaceAll("{N}", name);
}

/** Fixed English words of the templates, lower-case (invented words must differ from all of them). */
export function templateWords(): Set<string> {
  const texts = [...FACT_TEXTS, ...ATTRIBUTES.flatMap((a) => QUESTION_TEXTS[a]), ...FILLER_TEXTS];
  const words = new Set<string>();
  for (const text of texts)
    for (const word of text.replace(/\{\w+\}/g, " ").match(/\p{L}+/gu) ?? []) words.add(word.toLowerCase());
  return words;
}
