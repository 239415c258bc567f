/**
 * Knowledge-incorporation data files (reference-implementation.md §1.1):
 * - passage files `[{title, context, questions: [{question, answer}]}]` (the reference's `squad_val.json`);
 * - self-edit files: the same records plus `completions: string[]` and `prompt: string`
 *   (`synthetic_data/{eval,train}/*.json`);
 * - ReST-EM SFT sets, JSONL rows `{prompt, completion}` (`synthetic_data/EM_SFT/*.jsonl`);
 * - the official SQuAD v1.1 layout, converted to passage records (first gold answer becomes `answer`).
 * Records keep the order of the file: the reference's article order is the order of its shipped files.
 */
import { z } from "zod";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { describeIssues, readJsonFile, writeJsonFile } from "../../io/json-file.js";
import { readTextFile } from "../../io/text-file.js";
import { isEmptyPrediction } from "./grading.js";

/**
 * A gold answer that is empty after strip(): no grader can use it (SQuAD exact match would count every answer that
 * normalizes to "" as a match, the judge would see no gold), so such a file is rejected where it is read. A gold that
 * only normalizes to "" ("A", as in vitamin A) is kept: it is a real answer, and the judge grades it.
 */
const goldAnswerSchema = z.string().refine((text) => !isEmptyPrediction(text), {
  error: (issue) => `the gold answer ${JSON.stringify(issue.input)} is empty: nothing to grade against`,
});

export const questionAnswerSchema = z.object({ question: z.string(), answer: goldAnswerSchema });

export const passageSchema = z.object({
  title: z.string(),
  context: z.string(),
  questions: z.array(questionAnswerSchema),
});

export const selfEditRecordSchema = passageSchema.extend({
  completions: z.array(z.string()),
  prompt: z.string(),
});

export const sftRowSchema = z.object({ prompt: z.string(), completion: z.string() });

export const squadV11Schema = z.object({
  version: z.string().optional(),
  data: z.array(
    z.object({
      title: z.string(),
      paragraphs: z.array(
        z.object({
          context: z.string(),
          qas: z.array(
            z.object({
              question: z.string(),
              id: z.string().optional(),
              answers: z
                .array(z.object({ text: goldAnswerSchema, answer_start: z.number().int().optional() }))
                .min(1, "expected at least one answer"),
            }),
          ),
        }),
      ),
    }),
  ),
});

export type QuestionAnswer = z.output<typeof questionAnswerSchema>;
/** One passage (a SQuAD paragraph) with its closed-book questions. */
export type Passage = z.output<typeof passageSchema>;
/** A passage with its sampled self-edits and the exact generation prompt. */
export type SelfEditRecord = z.output<typeof selfEditRecordSchema>;
/** One ReST-EM SFT example: generation prompt → chosen self-edit. */
export type SftRow = z.output<typeof sftRowSchema>;
export type SquadV11 = z.output<typeof squadV11Schema>;

/**
 * Validates a top-level JSON array record by record, so an error says
 * `file: record 3: field "context": ...` instead of a bare array path.
 */
export function validateRecords<Schema extends z.ZodType>(
  value: unknown,
  schema: Schema,
  path: string,
): z.output<Schema>[] {
  if (!Array.isArray(value)) {
    throw new Error(`${path}: expected a JSON array of records, got ${value === null ? "null" : typeof value}`);
  }
  return value.map((item, index) => {
    const result = schema.safeParse(item);
    if (!result.success) throw new Error(`${path}: record ${index}: ${describeIssues(result.error)}`);
    return result.data;
  });
}

/** Reads a passage file `[{title, context, questions: [{question, answer}]}]`. */
export function readPassageFile(path: string): Passage[] {
  return validateRecords(readJsonFile(path, z.unknown()), passageSchema, path);
}

/** Reads a self-edit file: passage records plus `completions: string[]` and `prompt: string`. */
export function readSelfEditFile(path: string): SelfEditRecord[] {
  return validateRecords(readJsonFile(path, z.unknown()), selfEditRecordSchema, path);
}

/** Reads an SFT JSONL file (`{prompt, completion}` per line); blank lines are skipped. Errors name the line. */
export function readSftJsonl(path: string): SftRow[] {
  const rows: SftRow[] = [];
  const lines = readTextFile(path).split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (line.trim() === "") continue;
    const where = `${path}: line ${index + 1} (record ${rows.length})`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}: not valid JSON (${(error as Error).message})`);
    }
    const result = sftRowSchema.safeParse(value);
    if (!result.success) throw new Error(`${where}: ${describeIssues(result.error)}`);
    rows.push(result.data);
  }
  return rows;
}

/**
 * Converts the official SQuAD v1.1 layout to passage records: one record per paragraph, in file order,
 * titled with its article's title; each question's `answer` is its first gold answer (as the reference's files).
 */
export function squadV11ToPassages(value: unknown, path: string): Passage[] {
  const result = squadV11Schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const [key, article, paragraphsKey, paragraph, ...rest] = issue.path;
      let where = issue.path.length > 0 ? `field "${issue.path.join(".")}"` : "field (top level)";
      if (key === "data" && typeof article === "number") {
        where = `article ${article}`;
        if (paragraphsKey === "paragraphs" && typeof paragraph === "number") where += `, paragraph ${paragraph}`;
        const field = paragraphsKey === "paragraphs" && typeof paragraph === "number" ? rest : issue.path.slice(2);
        if (field.length > 0) where += `: field "${field.join(".")}"`;
      }
      return `${where}: ${issue.message}`;
    });
    throw new Error(`${path}: not SQuAD v1.1 layout: ${issues.join("; ")}`);
  }
  const passages: Passage[] = [];
  for (const article of result.data.data) {
    for (const paragraph of article.paragraphs) {
      passages.push({
        title: article.title,
        context: paragraph.context,
        questions: paragraph.qas.map((qa) => ({ question: qa.question, answer: qa.answers[0].text })),
      });
    }
  }
  return passages;
}

/** Reads an official SQuAD v1.1 JSON file (`{version, data: [{title, paragraphs}]}`) as passage records. */
export function readSquadV11File(path: string): Passage[] {
  return squadV11ToPassages(readJsonFile(path, z.unknown()), path);
}

/** Reads passages from either layout: a JSON array of passage records, or an official SQuAD v1.1 object. */
export function readPassagesAnyLayout(path: string): Passage[] {
  const value = readJsonFile(path, z.unknown());
  return Array.isArray(value) ? validateRecords(value, passageSchema, path) : squadV11ToPassages(value, path);
}

/** Writes a self-edit file (same layout as the reference's synthetic files), atomically. */
export function writeSelfEditFile(path: string, records: readonly SelfEditRecord[]): void {
  writeJsonFile(path, records);
}

/** Writes an SFT JSONL file (one `{prompt, completion}` object per line), atomically. */
export function writeSftJsonl(path: string, rows: readonly SftRow[]): void {
  writeFileAtomic(
    path,
    rows.map((row) => `${JSON.stringify({ prompt: row.prompt, completion: row.completion })}\n`).join(""),
  );
}
