import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: compiled tests live in dist/test/domains/knowledge, four levels below it. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/** The reference's knowledge-incorporation data folder in ../shared/data beside the clone. */
export const knowledgeDataDir = path.join(
  repoRoot,
  "..",
  "shared",
  "data",
  "seal-reference",
  "knowledge-incorporation",
  "data",
);

export function knowledgeDataPath(...parts: string[]): string {
  return path.join(knowledgeDataDir, ...parts);
}

export function exists(file: string): boolean {
  return fs.existsSync(file);
}
