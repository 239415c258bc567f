/**
 * The input of `seal knowledge evaluate`: the selected records of a self-edit file (or, in the baseline modes, of a
 * passage file) with the self-edits evaluated on each, read and checked before anything expensive happens.
 */
import { readPassagesAnyLayout, readSelfEditFile } from "./data.js";
import type { EvaluationConfig } from "./evaluation-config.js";

/** One selected passage with the self-edits evaluated on it. */
export interface EvaluationPassage {
  /** Index of the record in the input file (the `passage-{i}` of the keys). */
  index: number;
  title: string;
  context: string;
  questions: { question: string; answer: string }[];
  /** The self-edits evaluated, in order (`edit-{j}`): `[""]` in the baseline modes. */
  selfEdits: string[];
}

/**
 * Reads and checks the input file before anything expensive happens. Self-edit mode needs the reference's record
 * format (`completions` and `prompt`); the baseline modes accept plain passage files (or SQuAD v1.1) as well.
 * Errors name the file and the record.
 */
export function readEvaluationPassages(file: string, config: EvaluationConfig): EvaluationPassage[] {
  const records =
    config.mode === "self-edits"
      ? readSelfEditFile(file)
      : readPassagesAnyLayout(file).map((passage) => ({ ...passage, completions: [] as string[] }));
  if (records.length === 0) throw new Error(`${file}: no records`);
  if (config.start >= records.length) {
    throw new Error(`${file}: --start ${config.start} is past the end (the file holds ${records.length} records)`);
  }
  const selected: EvaluationPassage[] = [];
  const end = Math.min(records.length, config.start + config.limit);
  for (let index = config.start; index < end; index++) {
    const record = records[index];
    if (record.questions.length === 0) throw new Error(`${file}: record ${index}: field "questions": no questions`);
    let selfEdits: string[] = [""];
    if (config.mode === "self-edits") {
      if (record.completions.length < config.completions) {
        throw new Error(
          `${file}: record ${index}: field "completions": has ${record.completions.length} self-edit(s), ` +
            `--completions asks for ${config.completions}`,
        );
      }
      selfEdits = record.completions.slice(0, config.completions);
    }
    selected.push({
      index,
      title: record.title,
      context: record.context,
      questions: record.questions.map((q) => ({ question: q.question, answer: q.answer })),
      selfEdits,
    });
  }
  return selected;
}
