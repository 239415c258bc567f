/**
 * Self-edit demonstrations for the pretraining mix: the `implications` prompt for a pretrain person's passage,
 * followed by a completion of uneven quality. Pretrained on these, the base model writes mediocre self-edits of
 * its own, and ReST-EM (keep the best of k by downstream QA accuracy) has something to select and learn.
 *
 * Quality classes:
 * - complete: every fact, 1..maxPhrasings statements each, sometimes question–answer lines;
 * - partial: some facts left out (at least one kept, at least one missing);
 * - wrong: every fact once, but 1–3 of them with another value from the same value set;
 * - filler: generic sentences that state no fact;
 * - copy: the passage's own sentences, verbatim, one per line (no better than training on the passage).
 */
import type { Rng } from "../../engine/random.js";
import { buildSelfEditPrompt } from "../knowledge/prompts.js";
import { ATTRIBUTES, type Attribute } from "./attributes.js";
import { factStatements, questionAnswerLine } from "./fact-lines.js";
import type { RenderedPassage } from "./passage.js";
import { pick, sampleDistinct, shuffled, weightedChoice } from "./random.js";
import { FILLER_TEXTS, renderNamed } from "./templates.js";
import type { Person, World } from "./world.js";

export const DEMONSTRATION_QUALITIES = ["complete", "partial", "wrong", "filler", "copy"] as const;
export type DemonstrationQuality = (typeof DEMONSTRATION_QUALITIES)[number];

export interface DemonstrationOptions {
  /** Relative weights of the quality classes. */
  weights: Readonly<Record<DemonstrationQuality, number>>;
  /** Most statements per fact in a complete demonstration (drawn uniformly from 1..this). */
  maxPhrasings: number;
  /** Chance that a complete demonstration also has a question–answer line per fact. */
  questionLineProbability: number;
}

export const DEFAULT_DEMONSTRATION_OPTIONS: Readonly<DemonstrationOptions> = {
  weights: { complete: 0.2, partial: 0.25, wrong: 0.15, filler: 0.15, copy: 0.25 },
  maxPhrasings: 3,
  questionLineProbability: 0.3,
};

export interface Demonstration {
  quality: DemonstrationQuality;
  prompt: string;
  completion: string;
  /** Facts stated with the true value. */
  stated: Attribute[];
  /** Facts stated with a wrong value. */
  wrong: Attribute[];
}

function otherValue(world: World, attribute: Attribute, value: string, rng: Rng): string {
  const others = world.values[attribute].filter((v) => v !== value);
  return others.length > 0 ? pick(rng, others) : value;
}

export function demonstrationCompletion(
  world: World,
  person: Person,
  rendered: RenderedPassage,
  quality: DemonstrationQuality,
  rng: Rng,
  options: DemonstrationOptions = DEFAULT_DEMONSTRATION_OPTIONS,
): Omit<Demonstration, "prompt"> {
  const lines: string[] = [];
  let stated: Attribute[] = [];
  const wrong: Attribute[] = [];
  switch (quality) {
    case "complete": {
      const questionLines = rng.uniform() < options.questionLineProbability;
      for (const attribute of ATTRIBUTES) {
        lines.push(...factStatements(person, attribute, 1 + rng.int(options.maxPhrasings), rng));
        if (questionLines) lines.push(questionAnswerLine(person, attribute, rng));
      }
      stated = [...ATTRIBUTES];
      break;
    }
    case "partial": {
      const keep = 1 + rng.int(ATTRIBUTES.length - 1);
      stated = sampleDistinct(rng, ATTRIBUTES, keep);
      for (const attribute of stated) lines.push(...factStatements(person, attribute, 1, rng));
      break;
    }
    case "wrong": {
      const wrongCount = 1 + rng.int(3);
      const values = { ...person.attributes };
      for (const attribute of sampleDistinct(rng, ATTRIBUTES, wrongCount)) {
        const value = otherValue(world, attribute, values[attribute], rng);
        if (value !== values[attribute]) wrong.push(attribute);
        values[attribute] = value;
      }
      stated = ATTRIBUTES.filter((a) => !wrong.includes(a));
      for (const attribute of ATTRIBUTES) lines.push(...factStatements(person, attribute, 1, rng, values));
      break;
    }
    case "filler":
      for (const template of sampleDistinct(rng, FILLER_TEXTS, 3 + rng.int(4)))
        lines.push(renderNamed(template, person.name));
      break;
    case "copy":
      return { quality, completion: rendered.sentences.join("\n"), stated: [...ATTRIBUTES], wrong };
  }
  return { quality, completion: shuffled(rng, lines).join("\n"), stated, wrong };
}

/** A demonstration for `person`: quality drawn from the mixture, prompt from the `implications` style. */
export function sampleDemonstration(
  world: World,
  person: Person,
  rendered: RenderedPassage,
  rng: Rng,
  options: DemonstrationOptions = DEFAULT_DEMONSTRATION_OPTIONS,
): Demonstration {
  const quality = weightedChoice(rng, options.weights);
  const prompt = buildSelfEditPrompt("implications", rendered.passage.title, rendered.passage.context);
  return { prompt, ...demonstrationCompletion(world, person, rendered, quality, rng, options) };
}
