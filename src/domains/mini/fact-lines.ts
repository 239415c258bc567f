/**
 * Self-edit lines: one statement per line, always with the full name (each line becomes its own training
 * sequence, so a pronoun there would refer to nothing), optionally question–answer lines. The line format keeps
 * `buildTrainSequences` splitting one sequence per line: no `---`, no "Question N:" (which would switch it to
 * self-QA splitting), no leading "1.".
 */
import type { Rng } from "../../engine/random.js";
import type { Attribute, Attributes } from "./attributes.js";
import { pick, sampleDistinct } from "./random.js";
import { questionTemplates, renderFact, renderNamed, singleFactTemplates } from "./templates.js";
import type { Person } from "./world.js";

/** `phrasings` differently worded statements of `attribute` (capped at the number of templates). */
export function factStatements(
  person: Person,
  attribute: Attribute,
  phrasings: number,
  rng: Rng,
  values: Attributes = person.attributes,
): string[] {
  const templates = singleFactTemplates(attribute);
  return sampleDistinct(rng, templates, Math.min(phrasings, templates.length)).map((t) =>
    renderFact(t, person, "name", values),
  );
}

/** `Question: … Answer: …` on one line, with a random paraphrase of the question. */
export function questionAnswerLine(person: Person, attribute: Attribute, rng: Rng, value?: string): string {
  const question = renderNamed(pick(rng, questionTemplates(attribute)), person.name);
  return `Question: ${question} Answer: ${value ?? person.attributes[attribute]}`;
}
