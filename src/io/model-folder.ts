/** Helpers shared by the commands that read a model folder and write new folders beside it. */
import fs from "node:fs";
import path from "node:path";
import { writeAtomically } from "./atomic-file.js";
import { locateWeights } from "./model-files.js";
import type { LoadableDtype } from "./safetensors.js";
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "./tokenizer.js";

/** The tokenizer's files that travel with a model folder (copied when present). */
export const TOKENIZER_FILES = [
  TOKENIZER_FILE,
  TOKENIZER_CONFIG_FILE,
  "special_tokens_map.json",
  "chat_template.jinja",
  "chat_template.json",
];

/** Copies the tokenizer files `from` holds into `to` (each atomically); returns the names copied. */
export function copyTokenizerFiles(from: string, to: string): string[] {
  const copied: string[] = [];
  for (const name of TOKENIZER_FILES) {
    const source = path.join(from, name);
    if (!fs.existsSync(source)) continue;
    writeAtomically(path.join(to, name), (tempPath) => fs.copyFileSync(source, tempPath));
    copied.push(name);
  }
  return copied;
}

/**
 * Copies the base model's generation_config.json over the one saveModel wrote (which holds only the token ids),
 * so a derived model keeps its author's sampling defaults.
 */
export function copyGenerationConfig(from: string, to: string): void {
  const source = path.join(from, "generation_config.json");
  if (fs.existsSync(source))
    writeAtomically(path.join(to, "generation_config.json"), (tempPath) => fs.copyFileSync(source, tempPath));
}

/** The on-disk dtype of a checkpoint when all its tensors share one the engine can write, else F32. */
export function checkpointDtype(dir: string): LoadableDtype {
  const dtypes = new Set([...locateWeights(dir).values()].map((where) => where.info.dtype));
  const [only] = dtypes;
  return dtypes.size === 1 && (only === "F32" || only === "BF16" || only === "F16") ? only : "F32";
}

/** Refuses to overwrite an existing model/adapter (`marker` is the file that says one is there) without --force. */
export function refuseOverwrite(dir: string, marker: string, force: boolean | undefined): void {
  if (!force && fs.existsSync(path.join(dir, marker)))
    throw new Error(`${dir} already holds ${marker}; pass --force to overwrite`);
}

export function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}
