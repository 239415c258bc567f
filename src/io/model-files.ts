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
import { entryExists } from "./input-file.js";
import { readJsonFile, writeJsonFile } from "./json-file.js";
import {
  isLoadableDtype,
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
  // entryExists, not fs.existsSync: a directory or a broken link under the name is reported as what it is.
  if (entryExists(single)) {
    for (const [name, info] of readSafetensorsHeader(single).tensors) located.set(name, { file: single, info });
    return located;
  }
  if (!entryExists(indexPath)) {
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
      if (!entryExists(file)) throw new Error(`${indexPath}: shard ${shard} (for tensor "${name}") does not exist`);
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

const LAYER_TENSOR = /^model\.layers\.(\d+)\./;

function layerOf(name: string): number | null {
  const match = LAYER_TENSOR.exec(name);
  return match === null ? null : Number(match[1]);
}

/**
 * Every way the checkpoint's headers contradict config.json (empty when they agree): layer count, missing and
 * unexpected tensors, shapes (expected vs found, with the file), dtypes the engine cannot load. Reads no tensor
 * data, and sizes nothing from the config beyond the layers the checkpoint holds, so an absurd config costs nothing.
 */
export function weightProblems(
  dir: string,
  config: ModelConfig,
  located: ReadonlyMap<string, WeightLocation>,
): string[] {
  const problems: string[] = [];
  let layersFound = 0;
  for (const name of located.keys()) layersFound = Math.max(layersFound, (layerOf(name) ?? -1) + 1);
  if (layersFound !== config.numLayers)
    problems.push(`config.json has num_hidden_layers ${config.numLayers}, the weights hold ${layersFound} layers`);
  const slots = weightSlots({ ...config, numLayers: Math.min(config.numLayers, layersFound) });
  const expected = new Set(slots.map((slot) => slot.name));
  const where = entryExists(path.join(dir, SINGLE_FILE)) ? SINGLE_FILE : `the shards of ${INDEX_FILE}`;
  const missing = slots.filter((slot) => !located.has(slot.name)).map((slot) => slot.name);
  if (missing.length > 0) problems.push(`missing tensors ${listSome(missing)} (not in ${where})`);
  // Layers beyond the config's count are covered by the layer-count problem above.
  const unexpected = [...located.keys()].filter(
    (name) => !expected.has(name) && !isIgnoredTensor(name, config) && (layerOf(name) ?? 0) < config.numLayers,
  );
  if (unexpected.length > 0) problems.push(`unexpected tensors ${listSome(unexpected)}`);
  const tensorProblems: string[] = [];
  for (const slot of slots) {
    const found = located.get(slot.name);
    if (found === undefined) continue;
    const file = path.basename(found.file);
    if (found.info.shape.join(",") !== slot.shape.join(","))
      tensorProblems.push(
        `tensor "${slot.name}" in ${file} has shape [${found.info.shape.join(", ")}], config.json implies [${slot.shape.join(", ")}]`,
      );
    else if (!isLoadableDtype(found.info.dtype))
      tensorProblems.push(`tensor "${slot.name}" in ${file} has dtype ${found.info.dtype} (loadable: F32, F16, BF16)`);
  }
  // One wrong size in config.json mis-shapes a tensor in every layer: the first few say which.
  const shown = tensorProblems.slice(0, 8);
  if (tensorProblems.length > shown.length) shown.push(`and ${tensorProblems.length - shown.length} more such tensors`);
  return [...problems, ...shown];
}

/** A model folder's configs and weight headers, checked against each other; no tensor data read yet. */
export interface InspectedModel {
  dir: string;
  config: ModelConfig;
  generationConfig: GenerationConfig | null;
  /** Stop tokens: generation_config.json's, then config.json's (duplicates removed). */
  eosTokenIds: number[];
  located: Map<string, WeightLocation>;
}

/**
 * Reads config.json, generation_config.json and the safetensors headers, and refuses a folder whose weights do not
 * match its config, before anything is allocated (so a command can check its inputs before the costly load).
 */
export function inspectModel(dir: string): InspectedModel {
  const config = readModelConfig(dir);
  const generationConfig = readGenerationConfig(dir, config.vocabSize);
  const located = locateWeights(dir);
  const problems = weightProblems(dir, config, located);
  if (problems.length > 0) throw new Error(`${dir}: weights do not match config.json: ${problems.join("; ")}`);
  const eosTokenIds = [...new Set([...(generationConfig?.eosTokenIds ?? []), ...config.eosTokenIds])];
  return { dir, config, generationConfig, eosTokenIds, located };
}

/** Loads config, generation config and weights from a Hugging Face model folder (or one already inspected). */
export function loadModel(source: string | InspectedModel): LoadedModel {
  const { config, generationConfig, eosTokenIds, located } = typeof source === "string" ? inspectModel(source) : source;
  const slots = weightSlots(config);
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
