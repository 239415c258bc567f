import fs from "node:fs";
import path from "node:path";
import { missingSharedData, sharedDir } from "../../shared-data.js";

/** The reference's knowledge-incorporation data folder in ../shared/data beside the clone. */
export const knowledgeDataDir = path.join(sharedDir, "data", "seal-reference", "knowledge-incorporation", "data");

/** The reference's recorded knowledge-incorporation results (query_server, cpt, continual_self_edits). */
export const knowledgeResultsDir = path.join(sharedDir, "data", "seal-reference", "knowledge-incorporation", "results");

/** Skip reason for tests that read the reference's recorded results (false when they are there). */
export const knowledgeResultsMissing = missingSharedData(knowledgeResultsDir, "the reference's knowledge results");

export function knowledgeDataPath(...parts: string[]): string {
  return path.join(knowledgeDataDir, ...parts);
}

/** Skip reason for tests that read the reference's knowledge data (false when it is there). */
export const knowledgeDataMissing = missingSharedData(knowledgeDataDir, "the reference's knowledge data");

export function exists(file: string): boolean {
  return fs.existsSync(file);
}
