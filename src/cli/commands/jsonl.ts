/** Reading JSONL input files: one JSON value per non-blank line, every error naming `file:line`. */
import { z } from "zod";
import { readTextFile } from "../../io/text-file.js";

export interface JsonlRecord {
  /** 1-based line number in the file. */
  line: number;
  value: unknown;
}

/** `file:line`, the prefix of every message about a record. */
export function where(file: string, record: JsonlRecord): string {
  return `${file}:${record.line}`;
}

/** Reads a JSONL file (UTF-8, a leading BOM dropped, invalid UTF-8 refused with its line). */
export function readJsonlFile(file: string): JsonlRecord[] {
  const text = readTextFile(file);
  const records: JsonlRecord[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    records.push({ line: i + 1, value });
  });
  if (records.length === 0) throw new Error(`${file}: no records (expected one JSON object per line)`);
  return records;
}

/** Serialises records as JSONL (one compact JSON object per line, newline-terminated). */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join("");
}

/** A chat conversation, as `messages` lines hold it. */
export const chatMessagesSchema = z
  .array(z.looseObject({ role: z.string(), content: z.string() }), {
    error: 'expected a list of {"role": ..., "content": ...} messages',
  })
  .min(1, { error: "expected at least one message" });
