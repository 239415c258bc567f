/**
 * The fingerprint of the base model an adapter is trained on or applied to, so that an adapter meeting a different
 * model of the same shapes (a finetune, a merge, another checkpoint) is noticed instead of being applied silently.
 *
 * It is taken from the weights in memory, not from the files: the weights are what the adapter's update was
 * computed against, they are already loaded wherever an adapter is trained or applied, and so the fingerprint does
 * not change when a folder is moved, re-sharded, or converted between dtypes without loss (BF16 → F32), while in
 * the continual loop each adapter is recorded against the merged weights it was actually trained on.
 *
 * Cheap by sampling: the config fields that change the computation, each tensor's length, and 3 windows of 1024
 * values per tensor (start, middle, end; whole tensors up to 3072 values) — about 12 KiB per tensor, a few MB for a
 * 7B model, hashed in milliseconds. A finetune or a merged LoRA update changes every value of the tensors it
 * touches, so the windows see it; an edit confined to unsampled rows (say, a few embedding rows) is not seen.
 */
import { createHash, type Hash } from "node:crypto";
import type { ModelConfig } from "../engine/config.js";
import type { ModelWeights } from "../engine/weights.js";

/** Names the sampling scheme, so a fingerprint recorded under another scheme is not compared with this one. */
export const BASE_FINGERPRINT_METHOD = "weights-sample-v1";

const WINDOW = 1024;

function hashTensor(hash: Hash, name: string, values: Float32Array): void {
  hash.update(`${name}:${values.length}\n`);
  const bytes = (from: number, count: number) =>
    new Uint8Array(values.buffer, values.byteOffset + from * 4, Math.min(count, values.length - from) * 4);
  if (values.length <= 3 * WINDOW) {
    hash.update(bytes(0, values.length));
    return;
  }
  hash.update(bytes(0, WINDOW));
  hash.update(bytes(Math.floor((values.length - WINDOW) / 2), WINDOW));
  hash.update(bytes(values.length - WINDOW, WINDOW));
}

/** sha256 (hex) over the computation-relevant config and a sample of every weight tensor (see above). */
export function baseModelFingerprint(config: ModelConfig, weights: ModelWeights): string {
  const hash = createHash("sha256");
  // Token ids and the position limit do not change what a weight update means; everything else does.
  const { bosTokenId: _bos, eosTokenIds: _eos, maxPositionEmbeddings: _max, ...computation } = config;
  const fields = Object.entries(computation)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => [key, value !== null && typeof value === "object" ? Object.entries(value).sort() : value]);
  hash.update(`${BASE_FINGERPRINT_METHOD}\n${JSON.stringify(fields)}\n`);
  hashTensor(hash, "embed_tokens", weights.embedTokens);
  weights.layers.forEach((layer, i) => {
    for (const [name, values] of Object.entries(layer).sort(([a], [b]) => a.localeCompare(b)))
      if (values !== null) hashTensor(hash, `layers.${i}.${name}`, values as Float32Array);
  });
  hashTensor(hash, "norm", weights.finalNorm);
  if (weights.lmHead !== weights.embedTokens) hashTensor(hash, "lm_head", weights.lmHead);
  return hash.digest("hex");
}
