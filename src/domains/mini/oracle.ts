/**
 * The oracle self-edit writer (the analogue of the paper's GPT-4.1 self-edits): from the ground truth, every fact
 * restated with the full name in several phrasings, plus question–answer lines, one item per line, in random order.
 * It never sees the passage's questions: its question lines use random paraphrases.
 */
import type { Rng } from "../../engine/random.js";
import { ATTRIBUTES } from "./attributes.js";
import { factStatements, questionAnswerLine } from "./fact-lines.js";
import { shuffled } from "./random.js";
import type { Person } from "./world.js";

export interface OracleOptions {
  /** Statements per fact, each in a different template (capped at the templates available, 4 or 5). */
  phrasings: number;
  /** Question–answer lines per fact. */
  questionLines: number;
}

export const DEFAULT_ORACLE_OPTIONS: Readonly<OracleOptions> = { phrasings: 3, questionLines: 1 };

export function oracleSelfEdit(person: Person, rng: Rng, options: OracleOptions = DEFAULT_ORACLE_OPTIONS): string {
  const lines: string[] = [];
  for (const attribute of ATTRIBUTES) {
    lines.push(...factStatements(person, attribute, options.phrasings, rng));
    for (let i = 0; i < options.questionLines; i++) lines.push(questionAnswerLine(person, attribute, rng));
  }
  return shuffled(rng, lines).join("\n");
}
