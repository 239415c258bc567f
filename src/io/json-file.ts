import fs from "node:fs";
import type { z } from "zod";
import { writeFileAtomic } from "./atomic-file.js";
import { unreadableFileMessage } from "./input-file.js";

/** Formats zod issues as `field "a.b": message; ...` so errors name the offending field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
      return `field "${field}": ${issue.message}`;
    })
    .join("; ");
}

/** Parses JSON text, naming the file when it is not valid JSON. */
export function parseJsonText(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Reads a JSON file and validates it against `schema`; every error names the file. */
export function readJsonFile<Schema extends z.ZodType>(path: string, schema: Schema): z.output<Schema> {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(unreadableFileMessage(path, error));
  }
  return validateJson(parseJsonText(text, path), schema, path);
}

export function validateJson<Schema extends z.ZodType>(value: unknown, schema: Schema, path: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${path}: ${describeIssues(result.error)}`);
  return result.data;
}

/** Writes pretty-printed JSON (as transformers does, 2-space indent) via temp file + rename. */
export function writeJsonFile(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
