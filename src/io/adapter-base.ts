/**
 * Which base model an adapter was trained on: `seal_adapter.json` beside PEFT's files records the base model's
 * fingerprint (io/base-fingerprint.ts), so an adapter applied to another model of the same shapes is noticed.
 *
 * A separate file rather than a key in adapter_config.json: PEFT builds its LoraConfig from every key of
 * adapter_config.json, and an unknown key makes PEFT before 0.13 fail ("LoraConfig.__init__() got an unexpected
 * keyword argument"; forward compatibility came with huggingface/peft#2038), as it does tools that build the config
 * themselves, while later PEFT warns that the file comes from a newer PEFT. Nothing but seal reads this file. Since PEFT (or anything
 * else) may rewrite the adapter's weights in place, the record also holds the weights file's fingerprint; a record
 * that no longer matches its weights is ignored.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { fingerprintFile } from "./file-fingerprint.js";
import { readJsonFile, writeJsonFile } from "./json-file.js";

export const SEAL_ADAPTER_FILE = "seal_adapter.json";
const FORMAT = "seal-adapter/1";

const recordSchema = z.looseObject({
  format: z.literal(FORMAT),
  base_model: z.string().nullable(),
  base_model_fingerprint: z.string(),
  base_model_fingerprint_method: z.string(),
  adapter_weights: z.looseObject({ size: z.number(), sha256: z.string() }),
});

export interface AdapterBaseRecord {
  /** Where the base model was (informative only: folders move). */
  baseModel: string | null;
  fingerprint: string;
  method: string;
}

/** What an adapter folder says about its base: a usable record, or why there is none. */
export type AdapterBaseRecordResult = { record: AdapterBaseRecord } | { missing: string };

/** Writes `dir/seal_adapter.json` for the weights file just written at `weightsPath`. */
export function writeAdapterBaseRecord(
  dir: string,
  weightsPath: string,
  base: { baseModel: string | null; fingerprint: string; method: string },
): void {
  const weights = fingerprintFile(weightsPath);
  writeJsonFile(path.join(dir, SEAL_ADAPTER_FILE), {
    format: FORMAT,
    base_model: base.baseModel,
    base_model_fingerprint: base.fingerprint,
    base_model_fingerprint_method: base.method,
    adapter_weights: { size: weights.size, sha256: weights.sha256 },
  });
}

export function removeAdapterBaseRecord(dir: string): void {
  fs.rmSync(path.join(dir, SEAL_ADAPTER_FILE), { force: true });
}

/** Reads `dir/seal_adapter.json` and checks that it still describes the weights at `weightsPath`. */
export function readAdapterBaseRecord(dir: string, weightsPath: string): AdapterBaseRecordResult {
  const file = path.join(dir, SEAL_ADAPTER_FILE);
  if (!fs.existsSync(file)) return { missing: `no ${SEAL_ADAPTER_FILE} (not written by seal)` };
  let json: z.output<typeof recordSchema>;
  try {
    json = readJsonFile(file, recordSchema);
  } catch (error) {
    return { missing: `unusable ${SEAL_ADAPTER_FILE} (${(error as Error).message})` };
  }
  const weights = fingerprintFile(weightsPath);
  if (weights.size !== json.adapter_weights.size || weights.sha256 !== json.adapter_weights.sha256)
    return {
      missing: `${SEAL_ADAPTER_FILE} describes other weights than ${path.basename(weightsPath)} (rewritten since?)`,
    };
  return {
    record: {
      baseModel: json.base_model,
      fingerprint: json.base_model_fingerprint,
      method: json.base_model_fingerprint_method,
    },
  };
}

/** How an adapter's recorded base compares with the model it meets. */
export type AdapterBaseVerdict =
  | { kind: "same" }
  | { kind: "different"; message: string }
  | { kind: "unknown"; message: string };

const short = (fingerprint: string) => `${fingerprint.slice(0, 12)}…`;

/** Compares what `dir` records with `fingerprint` (computed with `method`); messages name the adapter folder. */
export function compareAdapterBase(
  dir: string,
  found: AdapterBaseRecordResult,
  fingerprint: string,
  method: string,
): AdapterBaseVerdict {
  if ("missing" in found)
    return { kind: "unknown", message: `${dir}: ${found.missing}; its base model is not checked` };
  const { record } = found;
  if (record.method !== method)
    return {
      kind: "unknown",
      message: `${dir}: the base fingerprint was recorded with method "${record.method}", not "${method}"; its base model is not checked`,
    };
  if (record.fingerprint === fingerprint) return { kind: "same" };
  return {
    kind: "different",
    message:
      `${dir} was trained on a different base model (base fingerprint ${short(record.fingerprint)}` +
      `${record.baseModel === null ? "" : ` of ${record.baseModel}`}) than the one it is applied to ` +
      `(${short(fingerprint)})`,
  };
}
