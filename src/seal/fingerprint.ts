/**
 * Content fingerprints (sha256, hex) that a run directory records so a resumed run can check it still works on the
 * same model, data and configuration.
 *
 * Large files are *sampled*, not hashed whole: a multi-GB weight file is fingerprinted by its size plus the sha256
 * of its first and last MiB. For safetensors the first MiB holds the whole header (every tensor's name, dtype,
 * shape and offsets) and the start of the data; the last MiB holds the last tensor's data. A different model, a
 * re-export, a dtype change, a truncated copy or a merged/retrained checkpoint changes one of these; an in-place edit
 * of bytes in the middle of a file of the same size does not. Reading 2 MiB instead of gigabytes keeps fingerprinting
 * (done at every start and resume) under a millisecond per file; pass `{ full: true }` to hash every byte.
 * Files up to 2 MiB (configs, tokenizers, data files) are always hashed whole.
 */
import fs from "node:fs";
import path from "node:path";
import { type FileFingerprint, type FingerprintOptions, fingerprintFile, sha256Hex } from "../io/file-fingerprint.js";

export {
  type FileFingerprint,
  type FingerprintOptions,
  fingerprintFile,
  SAMPLE_BYTES,
  sha256Hex,
} from "../io/file-fingerprint.js";

export interface ModelFolderFingerprint {
  /** Combined fingerprint over every included file's name, size, method and hash (not the folder's path). */
  sha256: string;
  files: FileFingerprint[];
}

/** Files of a Hugging Face model folder that determine what the model computes (besides weight files). */
const MODEL_FOLDER_FILES = new Set([
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "tokenizer.model",
  "special_tokens_map.json",
  "added_tokens.json",
  "vocab.json",
  "merges.txt",
  "chat_template.jinja",
  "chat_template.json",
  "adapter_config.json",
]);
const WEIGHT_FILE = /\.(safetensors|bin|gguf|pt|pth)$|\.safetensors\.index\.json$/;

/**
 * Fingerprints a Hugging Face model folder: config.json (required), generation/tokenizer/chat-template files when
 * present, and every weight file (`*.safetensors`, the shard index, `*.bin`, `*.gguf`, `*.pt(h)`), large ones sampled.
 * Other files (README, .git, ...) are ignored. The combined hash does not depend on where the folder lives.
 */
export function fingerprintModelFolder(dir: string, options: FingerprintOptions = {}): ModelFolderFingerprint {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new Error(
      `${dir}: cannot read model folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const names = entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => entry.name)
    .filter((name) => MODEL_FOLDER_FILES.has(name) || WEIGHT_FILE.test(name))
    .sort();
  if (!names.includes("config.json")) throw new Error(`${dir}: not a model folder (no config.json)`);
  const files = names.map((name) => ({ ...fingerprintFile(path.join(dir, name), options), name }));
  return { sha256: sha256Hex(stableStringify(files)), files };
}

/**
 * JSON with object keys in sorted order at every level, so equal values give equal text whatever order their keys
 * were built in. Like JSON.stringify, properties whose value is undefined are left out; unlike it, values that JSON
 * would silently change (NaN, Infinity, undefined in arrays, functions, bigint, cycles) are rejected, naming where.
 */
export function stableStringify(value: unknown): string {
  const seen = new Set<object>();
  const visit = (item: unknown, where: string): string => {
    if (item === null) return "null";
    switch (typeof item) {
      case "string":
      case "boolean":
        return JSON.stringify(item);
      case "number":
        if (!Number.isFinite(item)) throw new Error(`${where}: ${item} is not representable in JSON`);
        return JSON.stringify(item);
      case "object": {
        if (seen.has(item)) throw new Error(`${where}: circular reference`);
        const withToJson = item as { toJSON?: () => unknown };
        if (typeof withToJson.toJSON === "function") return visit(withToJson.toJSON(), where);
        seen.add(item);
        let text: string;
        if (Array.isArray(item)) {
          text = `[${item.map((element, index) => visit(element, `${where}[${index}]`)).join(",")}]`;
        } else {
          const record = item as Record<string, unknown>;
          const parts: string[] = [];
          for (const key of Object.keys(record).sort()) {
            if (record[key] === undefined) continue;
            parts.push(`${JSON.stringify(key)}:${visit(record[key], where === "" ? key : `${where}.${key}`)}`);
          }
          text = `{${parts.join(",")}}`;
        }
        seen.delete(item);
        return text;
      }
      default:
        throw new Error(`${where || "(top level)"}: a ${typeof item} is not representable in JSON`);
    }
  };
  return visit(value, "");
}

/** sha256 of a JSON-able value in stable key order (see stableStringify). */
export function fingerprintJson(value: unknown): string {
  return sha256Hex(stableStringify(value));
}
