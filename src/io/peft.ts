/**
 * LoRA adapters in PEFT's `save_pretrained` layout, so adapters trained here load in PEFT and vice versa:
 * `adapter_config.json` + `adapter_model.safetensors` with keys
 * `base_model.model.model.layers.{i}.{self_attn|mlp}.{proj}.lora_{A|B}.weight` (PEFT strips the adapter name
 * "default" from the keys when saving). Only plain LoRA is supported; options that change the math are rejected.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { type ModelConfig, PROJECTIONS, type Projection, projectionShape } from "../engine/config.js";
import { refuseNonFiniteTensors } from "../engine/finite.js";
import type { LoraAdapter, LoraPair } from "../engine/lora-types.js";
import type { ModelWeights } from "../engine/weights.js";
import {
  compareAdapterBase,
  readAdapterBaseRecord,
  removeAdapterBaseRecord,
  writeAdapterBaseRecord,
} from "./adapter-base.js";
import { BASE_FINGERPRINT_METHOD, baseModelFingerprint } from "./base-fingerprint.js";
import { readJsonFile, writeJsonFile } from "./json-file.js";
import { loadSafetensors, type NamedTensor, readSafetensorsHeader, writeSafetensors } from "./safetensors.js";

export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";

const BLOCK: Record<Projection, "self_attn" | "mlp"> = {
  q_proj: "self_attn",
  k_proj: "self_attn",
  v_proj: "self_attn",
  o_proj: "self_attn",
  gate_proj: "mlp",
  up_proj: "mlp",
  down_proj: "mlp",
};

const TENSOR_NAME = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)\.lora_(A|B)\.weight$/;

export function loraTensorName(layer: number, projection: Projection, matrix: "A" | "B"): string {
  return `base_model.model.model.layers.${layer}.${BLOCK[projection]}.${projection}.lora_${matrix}.weight`;
}

const emptyOrNull = (what: string) =>
  z
    .unknown()
    .refine(
      (value) =>
        value == null ||
        (Array.isArray(value) && value.length === 0) ||
        (typeof value === "object" && Object.keys(value).length === 0),
      { error: `${what} is not supported` },
    );

const adapterConfigSchema = z.looseObject({
  peft_type: z.literal("LORA", { error: 'expected "LORA" (only LoRA adapters are supported)' }),
  task_type: z.literal("CAUSAL_LM", { error: 'expected "CAUSAL_LM"' }).nullish(),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  lora_dropout: z.number().min(0).lt(1).default(0),
  target_modules: z.union([z.array(z.string()), z.string()], {
    error: "expected a list of module names or a regex string",
  }),
  bias: z.literal("none", { error: 'expected "none" (trained biases are not supported)' }).default("none"),
  fan_in_fan_out: z.literal(false, { error: "expected false (transposed weights are not supported)" }).default(false),
  use_rslora: z.literal(false, { error: "expected false (rank-stabilised LoRA is not supported)" }).default(false),
  use_dora: z.literal(false, { error: "expected false (DoRA is not supported)" }).default(false),
  modules_to_save: emptyOrNull("modules_to_save"),
  rank_pattern: emptyOrNull("a per-module rank_pattern"),
  alpha_pattern: emptyOrNull("a per-module alpha_pattern"),
  layer_replication: emptyOrNull("layer_replication"),
  layers_to_transform: z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish(),
  base_model_name_or_path: z.string().nullish(),
});

function validRank(name: string, length: number, rank: number, dir: string): number {
  if (length % rank !== 0)
    throw new Error(`${dir}: adapter tensor "${name}" has ${length} values, not a multiple of r=${rank}`);
  return length / rank;
}

export interface SaveAdapterOptions {
  /** Written as PEFT's `base_model_name_or_path` (where the base model is; informative). */
  baseModel?: string;
  /**
   * baseModelFingerprint of the weights the adapter was trained on, recorded in seal_adapter.json so that applying
   * the adapter to another model is noticed (loadAdapter's `base`).
   */
  baseFingerprint?: string;
}

/**
 * Writes `adapter_config.json` and `adapter_model.safetensors` (F32) into `dir`, and seal_adapter.json when the
 * base's fingerprint is given (a record left by an earlier adapter in `dir` is removed first). Refuses non-finite
 * values, before writing anything.
 */
export function saveAdapter(dir: string, adapter: LoraAdapter, options: SaveAdapterOptions = {}): void {
  const { rank, alpha, dropout, targets } = adapter.config;
  if (!Number.isInteger(rank) || rank <= 0) throw new Error(`adapter rank must be a positive integer, got ${rank}`);
  const targetSet = new Set(targets);
  const tensors: NamedTensor[] = [];
  const adaptedLayers: number[] = [];
  adapter.layers.forEach((pairs, layer) => {
    const present = PROJECTIONS.filter((projection) => pairs[projection] !== undefined);
    if (present.length === 0) return;
    // PEFT wraps every target module in each adapted layer; an irregular pattern cannot be expressed.
    if (present.length !== targetSet.size || !present.every((projection) => targetSet.has(projection)))
      throw new Error(
        `adapter layer ${layer} has pairs for [${present.join(", ")}] but the targets are [${targets.join(", ")}]`,
      );
    adaptedLayers.push(layer);
    for (const projection of present) {
      const { a, b } = pairs[projection] as LoraPair;
      const inFeatures = validRank(`layer ${layer} ${projection} A`, a.length, rank, dir);
      const outFeatures = validRank(`layer ${layer} ${projection} B`, b.length, rank, dir);
      tensors.push({ name: loraTensorName(layer, projection, "A"), shape: [rank, inFeatures], data: a });
      tensors.push({ name: loraTensorName(layer, projection, "B"), shape: [outFeatures, rank], data: b });
    }
  });
  const allLayers = adaptedLayers.length === adapter.layers.length;
  // A NaN adapter (or one whose float32 scale overflows) would turn every output it touches into NaN.
  if (!Number.isFinite(Math.fround(alpha / rank)))
    throw new Error(`${dir}: LoRA scale alpha/r = ${alpha}/${rank} is not finite in float32; refusing to write`);
  refuseNonFiniteTensors(tensors, dir);
  fs.mkdirSync(dir, { recursive: true });
  removeAdapterBaseRecord(dir);
  const weightsPath = path.join(dir, ADAPTER_WEIGHTS_FILE);
  writeSafetensors(weightsPath, tensors, { metadata: { format: "pt" } });
  writeJsonFile(path.join(dir, ADAPTER_CONFIG_FILE), {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: options.baseModel ?? null,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: allLayers ? null : adaptedLayers,
    loftq_config: {},
    lora_alpha: alpha,
    lora_dropout: dropout,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: null,
    peft_type: "LORA",
    r: rank,
    rank_pattern: {},
    revision: null,
    target_modules: PROJECTIONS.filter((projection) => targetSet.has(projection)),
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: false,
  });
  if (options.baseFingerprint !== undefined)
    writeAdapterBaseRecord(dir, weightsPath, {
      baseModel: options.baseModel ?? null,
      fingerprint: options.baseFingerprint,
      method: BASE_FINGERPRINT_METHOD,
    });
}

export interface AdapterBaseCheck {
  /** The weights the adapter is applied to, or their baseModelFingerprint (to compute it once for many adapters). */
  base: ModelWeights | string;
  /** Refuse an adapter trained on a different base model (default: warn and apply it). */
  strict?: boolean;
  /** Where the warning, or the note that the base cannot be checked, goes (default: stderr). */
  log?: (line: string) => void;
}

/**
 * Compares the base model `dir`'s adapter records (seal_adapter.json) with the model it is applied to: a different
 * base is a warning, or an error when `strict`; an adapter without a usable record (e.g. trained with PEFT) gets a
 * note naming the base model its adapter_config.json gives.
 */
function checkAdapterBase(dir: string, config: ModelConfig, check: AdapterBaseCheck, baseModelName: string | null) {
  const log = check.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fingerprint = typeof check.base === "string" ? check.base : baseModelFingerprint(config, check.base);
  const found = readAdapterBaseRecord(dir, path.join(dir, ADAPTER_WEIGHTS_FILE));
  const verdict = compareAdapterBase(dir, found, fingerprint, BASE_FINGERPRINT_METHOD);
  if (verdict.kind === "different") {
    if (check.strict) throw new Error(`${verdict.message}; refused (--strict)`);
    log(`warning: ${verdict.message}; applying it anyway (--strict refuses)`);
  } else if (verdict.kind === "unknown") {
    const named = baseModelName == null ? "" : ` (adapter_config.json names base model ${baseModelName})`;
    log(`note: ${verdict.message}${named}`);
  }
}

/**
 * Reads a PEFT LoRA adapter for a model with `config`, checking names, ranks and shapes, and, given `check.base`,
 * that it was trained on that base model (see AdapterBaseCheck).
 */
export function loadAdapter(dir: string, config: ModelConfig, check?: AdapterBaseCheck): LoraAdapter {
  const configPath = path.join(dir, ADAPTER_CONFIG_FILE);
  const weightsPath = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const json = readJsonFile(configPath, adapterConfigSchema);
  if (!fs.existsSync(weightsPath)) {
    const hint = fs.existsSync(path.join(dir, "adapter_model.bin")) ? " (adapter_model.bin is not supported)" : "";
    throw new Error(`${dir}: no ${ADAPTER_WEIGHTS_FILE}${hint}`);
  }
  const rank = json.r;

  let listedTargets: Set<Projection> | null = null;
  if (Array.isArray(json.target_modules)) {
    listedTargets = new Set();
    for (const module of json.target_modules) {
      // PEFT matches a target against the end of a module's dotted name ("self_attn.q_proj" ≡ "q_proj").
      const last = module.slice(module.lastIndexOf(".") + 1);
      if (!(PROJECTIONS as readonly string[]).includes(last))
        throw new Error(
          `${configPath}: field "target_modules": unsupported module "${module}" (supported: ${PROJECTIONS.join(", ")})`,
        );
      listedTargets.add(last as Projection);
    }
  }
  const allowedLayers =
    json.layers_to_transform == null
      ? null
      : new Set(Array.isArray(json.layers_to_transform) ? json.layers_to_transform : [json.layers_to_transform]);

  const header = readSafetensorsHeader(weightsPath);
  const layers: LoraAdapter["layers"] = Array.from({ length: config.numLayers }, () => ({}));
  const found = new Map<string, { layer: number; projection: Projection; matrix: "A" | "B" }>();
  const problems: string[] = [];
  for (const [name, info] of header.tensors) {
    const match = TENSOR_NAME.exec(name);
    const projection = match?.[3] as Projection | undefined;
    if (
      match === null ||
      projection === undefined ||
      !Object.hasOwn(BLOCK, projection) ||
      BLOCK[projection] !== match[2]
    ) {
      problems.push(`unknown tensor "${name}"`);
      continue;
    }
    const layer = Number(match[1]);
    const matrix = match[4] as "A" | "B";
    if (layer >= config.numLayers) {
      problems.push(`tensor "${name}" is for layer ${layer} but the model has ${config.numLayers} layers`);
      continue;
    }
    if (listedTargets !== null && !listedTargets.has(projection))
      problems.push(`tensor "${name}" adapts ${projection}, which target_modules does not list`);
    if (allowedLayers !== null && !allowedLayers.has(layer))
      problems.push(`tensor "${name}" is for layer ${layer}, which layers_to_transform excludes`);
    const [outFeatures, inFeatures] = projectionShape(config, projection);
    const expected = matrix === "A" ? [rank, inFeatures] : [outFeatures, rank];
    if (info.shape.join(",") !== expected.join(","))
      problems.push(
        `tensor "${name}" has shape [${info.shape.join(", ")}], expected [${expected.join(", ")}] (r=${rank}, model ${projection} is [${outFeatures}, ${inFeatures}])`,
      );
    found.set(name, { layer, projection, matrix });
  }
  for (const [name, { layer, projection, matrix }] of found) {
    const partner = loraTensorName(layer, projection, matrix === "A" ? "B" : "A");
    if (!found.has(partner)) problems.push(`tensor "${name}" has no matching "${partner}"`);
  }
  if (problems.length > 0) throw new Error(`${weightsPath}: ${problems.join("; ")}`);
  if (check !== undefined) checkAdapterBase(dir, config, check, json.base_model_name_or_path ?? null);

  const tensors = loadSafetensors(weightsPath, { names: new Set(found.keys()) });
  const targets = new Set<Projection>(listedTargets ?? []);
  for (const [name, { layer, projection, matrix }] of found) {
    targets.add(projection);
    const pair = layers[layer][projection] ?? { a: new Float32Array(0), b: new Float32Array(0) };
    if (matrix === "A") pair.a = tensors.get(name)!.data;
    else pair.b = tensors.get(name)!.data;
    layers[layer][projection] = pair;
  }
  return {
    config: {
      rank,
      alpha: json.lora_alpha,
      dropout: json.lora_dropout,
      targets: PROJECTIONS.filter((projection) => targets.has(projection)),
    },
    layers,
  };
}
