/**
 * A model folder in Hugging Face layout: config.json, optional generation_config.json, and the weights as
 * model.safetensors or model.safetensors.index.json + shards. Loading checks every tensor against the config
 * before reading any data; saving writes each file under a temp name and renames it.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { ModelConfig } from "../engine/config.js";
import { refuseNonFiniteTensors } from "../engine/finite.js";
import type { ModelWeights } from "../engine/weights.js";
import { type GenerationConfig, readGenerationConfig, writeGenerationConfig } from "./generation-config.js";
import { readModelConfig, type TorchDtype, toHfConfigJson } from "./hf-config.js";
import { readJsonFile, writeJsonFile } from "./json-file.js";
import {
  type LoadableDtype,
  loadSafetensors,
  readSafetensorsHeader,
  type TensorInfo,
  writeSafetensors,
} from "./safetensors.js";
import { assembleWeights, weightEntries, weightSlots } from "./weight-names.js";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";
const SHARD_PATTERN = /^model-\d{5}-of-\d{5}\.safetensors$/;
/** transformers' default `max_shard_size` ("5GB"). */
const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;
/** transformers requires this metadata on safetensors checkpoints. */
const METADATA = { format: "pt" };
const TORCH_DTYPE: Record<LoadableDtype, TorchDtype> = { F32: "float32", BF16: "bfloat16", F16: "float16" };
const DTYPE_BYTES: Record<LoadableDtype, number> = { F32: 4, BF16: 2, F16: 2 };

export interface LoadedModel {
  config: ModelConfig;
  weights: ModelWeights;
  /** Stop tokens: generation_config.json's, then config.json's (duplicates removed). */
  eosTokenIds: number[];
  generationConfig: GenerationConfig | null;
}

export interface WeightLocation {
  file: string;
  info: TensorInfo;
}

const indexSchema = z.looseObject({
  metadata: z.looseObject({ total_size: z.number().nonnegative().optional() }).nullish(),
  weight_map: z.record(
    z.string(),
    z
      .string()
      .regex(/^[^/\\]+$/, { error: "expected a file name in the model folder" })
      .refine((name) => name !== "..", {
        error: "expected a file name in the model folder",
      }),
  ),
});

/** Locates every tensor of the checkpoint in `dir` (reading headers only). */
export function locateWeights(dir: string): Map<string, WeightLocation> {
  const single = path.join(dir, SINGLE_FILE);
  const indexPath = path.join(dir, INDEX_FILE);
  const located = new Map<string, WeightLocation>();
  if (fs.existsSync(single)) {
    for (const [name, info] of readSafetensorsHeader(single).tensors) located.set(name, { file: single, info });
    return located;
  }
  if (!fs.existsSync(indexPath)) {
    const hint = fs.existsSync(path.join(dir, "pytorch_model.bin"))
      ? " (pytorch_model.bin is not supported: convert it to safetensors)"
      : "";
    throw new Error(`${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}${hint}`);
  }
  const index = readJsonFile(indexPath, indexSchema);
  const headers = new Map<string, Map<string, TensorInfo>>();
  for (const [name, shard] of Object.entries(index.weight_map)) {
    const file = path.join(dir, shard);
    let tensors = headers.get(file);
    if (tensors === undefined) {
      if (!fs.existsSync(file)) throw new Error(`${indexPath}: shard ${shard} (for tensor "${name}") does not exist`);
      tensors = readSafetensorsHeader(file).tensors;
      headers.set(file, tensors);
    }
    const info = tensors.get(name);
    if (info === undefined) throw new Error(`${indexPath}: tensor "${name}" is mapped to ${shard}, which lacks it`);
    located.set(name, { file, info });
  }
  return located;
}

function listSome(names: string[]): string {
  const shown = names.slice(0, 8).map((name) => `"${name}"`);
  return names.length > 8 ? `${shown.join(", ")} and ${names.length - 8} more` : shown.join(", ");
}

/** Ignored on load: buffers some exports include, and lm_head when the config ties it to embed_tokens. */
export function isIgnoredTensor(name: string, config: ModelConfig): boolean {
  return name.endsWith(".rotary_emb.inv_freq") || (config.tieWordEmbeddings && name === "lm_head.weight");
}

/** Loads config, generation config and weights from a Hugging Face model folder. */
export function loadModel(dir: string): LoadedModel {
  const config = readModelConfig(dir);
  const generationConfig = readGenerationConfig(dir);
  const located = locateWeights(dir);
  const slots = weightSlots(config);
  const expected = new Set(slots.map((slot) => slot.name));

  const problems: string[] = [];
  const missing = slots.filter((slot) => !located.has(slot.name)).map((slot) => slot.name);
  if (missing.length > 0) problems.push(`missing tensors ${listSome(missing)}`);
  const unexpected = [...located.keys()].filter((name) => !expected.has(name) && !isIgnoredTensor(name, config));
  if (unexpected.length > 0) problems.push(`unexpected tensors ${listSome(unexpected)}`);
  for (const slot of slots) {
    const where = located.get(slot.name);
    if (where !== undefined && where.info.shape.join(",") !== slot.shape.join(","))
      problems.push(
        `tensor "${slot.name}" in ${path.basename(where.file)} has shape [${where.info.shape.join(", ")}], config.json implies [${slot.shape.join(", ")}]`,
      );
  }
  if (problems.length > 0) throw new Error(`${dir}: weights do not match config.json: ${problems.join("; ")}`);

  // One read per file, each tensor once.
  const namesByFile = new Map<string, Set<string>>();
  for (const slot of slots) {
    const { file } = located.get(slot.name)!;
    if (!namesByFile.has(file)) namesByFile.set(file, new Set());
    namesByFile.get(file)!.add(slot.name);
  }
  const tensors = new Map<string, Float32Array>();
  for (const [file, names] of namesByFile)
    for (const [name, tensor] of loadSafetensors(file, { names })) tensors.set(name, tensor.data);

  const eosTokenIds = [...new Set([...(generationConfig?.eosTokenIds ?? []), ...config.eosTokenIds])];
  return { config, weights: assembleWeights(config, tensors), eosTokenIds, generationConfig };
}

export interface SaveModelOptions {
  config: ModelConfig;
  weights: ModelWeights;
  /** On-disk dtype; default F32 (lossless). */
  dtype?: LoadableDtype;
  /** Stop tokens for generation_config.json; default the config's. */
  eosTokenIds?: number[];
  /** Shard when the weights exceed this many bytes; default 5 GB as transformers. */
  maxShardBytes?: number;
}

function shardName(index: number, count: number): string {
  return `model-${String(index + 1).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.safetensors`;
}

/**
 * Writes config.json, generation_config.json and the weights (one file or shards + index) into `dir`; refuses
 * (before writing anything) weights that hold NaN or ±Infinity.
 */
export function saveModel(dir: string, options: SaveModelOptions): void {
  const { config, weights } = options;
  const dtype = options.dtype ?? "F32";
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(maxShardBytes > 0)) throw new Error(`maxShardBytes must be positive, got ${maxShardBytes}`);
  const entries = weightEntries(config, weights);
  refuseNonFiniteTensors(entries, dir);
  const configJson = toHfConfigJson(config, { torchDtype: TORCH_DTYPE[dtype] });
  fs.mkdirSync(dir, { recursive: true });

  // Greedy sharding in checkpoint order, like transformers: a tensor larger than the limit gets a shard alone.
  const shards: (typeof entries)[] = [[]];
  let shardBytes = 0;
  let totalBytes = 0;
  for (const entry of entries) {
    const bytes = entry.data.length * DTYPE_BYTES[dtype];
    if (shardBytes + bytes > maxShardBytes && shards[shards.length - 1].length > 0) {
      shards.push([]);
      shardBytes = 0;
    }
    shards[shards.length - 1].push(entry);
    shardBytes += bytes;
    totalBytes += bytes;
  }

  const written = new Set<string>();
  if (shards.length === 1) {
    writeSafetensors(path.join(dir, SINGLE_FILE), entries, { dtype, metadata: METADATA });
    written.add(SINGLE_FILE);
  } else {
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const name = shardName(i, shards.length);
      writeSafetensors(path.join(dir, name), shard, { dtype, metadata: METADATA });
      for (const entry of shard) weightMap[entry.name] = name;
      written.add(name);
    });
    const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    // The index goes last: when it exists, its shards are complete.
    writeJsonFile(path.join(dir, INDEX_FILE), { metadata: { total_size: totalBytes }, weight_map: sortedMap });
    written.add(INDEX_FILE);
  }
  removeStaleWeights(dir, written);

  writeJsonFile(path.join(dir, "config.json"), configJson);
  writeGenerationConfig(dir, {
    bosTokenId: config.bosTokenId,
    eosTokenIds: options.eosTokenIds ?? config.eosTokenIds,
    padTokenId: null,
  });
}

/** Removes weight files of an earlier save with another layout, so the folder holds one checkpoint. */
function removeStaleWeights(dir: string, keep: ReadonlySet<string>): void {
  for (const name of fs.readdirSync(dir)) {
    const isWeightFile = name === SINGLE_FILE || name === INDEX_FILE || SHARD_PATTERN.test(name);
    if (isWeightFile && !keep.has(name)) fs.rmSync(path.join(dir, name), { force: true });
  }
}
