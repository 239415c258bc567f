/**
 * Hugging Face `config.json` ⇄ the engine's ModelConfig, for LlamaForCausalLM and Qwen2ForCausalLM.
 * Defaults follow transformers' LlamaConfig / Qwen2Config; options the engine cannot reproduce are rejected
 * rather than silently ignored.
 */
import path from "node:path";
import { z } from "zod";
import {
  type Architecture,
  CONFIG_LIMITS,
  MAX_ROPE_THETA,
  type ModelConfig,
  type RopeScaling,
  validateConfig,
} from "../engine/config.js";
import { readJsonFile, validateJson } from "./json-file.js";

export { PRESETS, presetConfig } from "./presets.js";

const ARCHITECTURES: Record<string, Architecture> = {
  LlamaForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
};
const MODEL_TYPES: Record<string, Architecture> = { llama: "llama", qwen2: "qwen2" };
const HF_CLASS: Record<Architecture, string> = { llama: "LlamaForCausalLM", qwen2: "Qwen2ForCausalLM" };

export type TorchDtype = "float32" | "bfloat16" | "float16";

/** An integer in [1, max], with the range in the message (config sizes are bounded: see CONFIG_LIMITS). */
function sizeField(max: number) {
  const error = `expected an integer in [1, ${max}]`;
  return z.number({ error }).int({ error }).min(1, { error }).max(max, { error });
}
const tokenId = z.number().int().nonnegative();
const tokenIds = z.union([tokenId, z.array(tokenId)], { error: "expected a token id or a list of token ids" });

const ropeThetaRange = `expected a number in (0, ${MAX_ROPE_THETA.toExponential()}]`;
const ropeTheta = z.number().gt(0, { error: ropeThetaRange }).max(MAX_ROPE_THETA, { error: ropeThetaRange });

const epsRange = "expected a number in (0, 1)";

/** Both spellings of a RoPE scaling block (`rope_scaling` or transformers ≥ 4.56 `rope_parameters`). */
const ropeBlock = z.looseObject({
  rope_type: z.string().optional(),
  type: z.string().optional(),
  rope_theta: ropeTheta.optional(),
  factor: z.number().positive().optional(),
  low_freq_factor: z.number().positive().optional(),
  high_freq_factor: z.number().positive().optional(),
  original_max_position_embeddings: sizeField(CONFIG_LIMITS.maxPositionEmbeddings).optional(),
});

const hfConfigSchema = z.looseObject({
  architectures: z.array(z.string()).nullish(),
  model_type: z.string().nullish(),
  vocab_size: sizeField(CONFIG_LIMITS.vocabSize),
  hidden_size: sizeField(CONFIG_LIMITS.hiddenSize),
  intermediate_size: sizeField(CONFIG_LIMITS.intermediateSize),
  num_hidden_layers: sizeField(CONFIG_LIMITS.numLayers),
  num_attention_heads: sizeField(CONFIG_LIMITS.numHeads),
  num_key_value_heads: sizeField(CONFIG_LIMITS.numKvHeads).nullish(),
  head_dim: sizeField(CONFIG_LIMITS.headDim).nullish(),
  rms_norm_eps: z.number().gt(0, { error: epsRange }).lt(1, { error: epsRange }).nullish(),
  rope_theta: ropeTheta.nullish(),
  rope_scaling: ropeBlock.nullish(),
  rope_parameters: ropeBlock.nullish(),
  max_position_embeddings: sizeField(CONFIG_LIMITS.maxPositionEmbeddings).nullish(),
  tie_word_embeddings: z.boolean().nullish(),
  attention_bias: z.boolean().nullish(),
  mlp_bias: z.boolean().nullish(),
  hidden_act: z.string().nullish(),
  use_sliding_window: z.boolean().nullish(),
  bos_token_id: tokenId.nullish(),
  eos_token_id: tokenIds.nullish(),
});

type HfConfigJson = z.output<typeof hfConfigSchema>;

function architectureOf(json: HfConfigJson, source: string): Architecture {
  const supported = `supported: ${Object.keys(ARCHITECTURES).join(", ")} (or model_type ${Object.keys(MODEL_TYPES).join(", ")})`;
  if (json.architectures != null && json.architectures.length > 0) {
    const name = json.architectures[0];
    if (!Object.hasOwn(ARCHITECTURES, name))
      throw new Error(`${source}: field "architectures": unsupported architecture "${name}" (${supported})`);
    return ARCHITECTURES[name];
  }
  if (json.model_type != null && Object.hasOwn(MODEL_TYPES, json.model_type)) return MODEL_TYPES[json.model_type];
  throw new Error(
    `${source}: cannot tell the architecture (architectures ${JSON.stringify(json.architectures ?? null)}, model_type ${JSON.stringify(json.model_type ?? null)}; ${supported})`,
  );
}

function ropeScalingOf(block: z.output<typeof ropeBlock> | null | undefined, source: string, field: string) {
  if (block == null) return null;
  const kind = block.rope_type ?? block.type ?? "default";
  // transformers treats "default" as plain RoPE.
  if (kind === "default") return null;
  const need = (key: keyof typeof block): number => {
    const value = block[key];
    if (typeof value !== "number") throw new Error(`${source}: field "${field}.${key}" is required for ${kind} RoPE`);
    return value;
  };
  if (kind === "linear") return { type: "linear", factor: need("factor") } satisfies RopeScaling;
  if (kind === "llama3")
    return {
      type: "llama3",
      factor: need("factor"),
      lowFreqFactor: need("low_freq_factor"),
      highFreqFactor: need("high_freq_factor"),
      originalMaxPositionEmbeddings: need("original_max_position_embeddings"),
    } satisfies RopeScaling;
  throw new Error(`${source}: field "${field}": unsupported rope_scaling type ${kind} (supported: llama3, linear)`);
}

/** Maps a parsed `config.json` object onto ModelConfig; `source` (the file path) prefixes every error. */
export function parseHfConfig(value: unknown, source = "config.json"): ModelConfig {
  const json = validateJson(value, hfConfigSchema, source);
  const architecture = architectureOf(json, source);
  if (json.hidden_act != null && json.hidden_act !== "silu")
    throw new Error(`${source}: field "hidden_act": unsupported activation "${json.hidden_act}" (supported: silu)`);
  if (json.mlp_bias === true) throw new Error(`${source}: field "mlp_bias": MLP biases are not supported`);
  if (json.use_sliding_window === true)
    throw new Error(`${source}: field "use_sliding_window": sliding-window attention is not supported`);
  if (architecture === "qwen2" && json.attention_bias === true)
    throw new Error(`${source}: field "attention_bias": Qwen2 has no o_proj bias`);

  const scalingField = json.rope_scaling != null ? "rope_scaling" : "rope_parameters";
  const numHeads = json.num_attention_heads;
  const attentionBias = json.attention_bias ?? false;
  const eos = json.eos_token_id;
  const config: ModelConfig = {
    architecture,
    vocabSize: json.vocab_size,
    hiddenSize: json.hidden_size,
    intermediateSize: json.intermediate_size,
    numLayers: json.num_hidden_layers,
    numHeads,
    numKvHeads: json.num_key_value_heads ?? numHeads,
    headDim: json.head_dim ?? Math.floor(json.hidden_size / numHeads),
    rmsNormEps: json.rms_norm_eps ?? 1e-6,
    ropeTheta: json.rope_theta ?? json.rope_parameters?.rope_theta ?? 10000,
    ropeScaling: ropeScalingOf(json.rope_scaling ?? json.rope_parameters, source, scalingField),
    maxPositionEmbeddings: json.max_position_embeddings ?? (architecture === "qwen2" ? 32768 : 2048),
    tieWordEmbeddings: json.tie_word_embeddings ?? false,
    qkvBias: architecture === "qwen2" ? true : attentionBias,
    oBias: architecture === "qwen2" ? false : attentionBias,
    bosTokenId: json.bos_token_id ?? null,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
  };
  if (json.head_dim == null && json.hidden_size % numHeads !== 0)
    throw new Error(`${source}: hidden_size ${json.hidden_size} is not divisible by num_attention_heads ${numHeads}`);
  checkTokenIds(source, { bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenIds }, config.vocabSize);
  try {
    validateConfig(config);
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  return config;
}

/**
 * Refuses special-token ids outside the vocabulary (`fields` maps each file field to its ids): a stop token the
 * model can never produce would let every generation run to its length limit without a word.
 */
export function checkTokenIds(source: string, fields: Record<string, number | number[] | null>, vocabSize: number) {
  for (const [field, value] of Object.entries(fields)) {
    const ids = value === null ? [] : Array.isArray(value) ? value : [value];
    const outside = ids.find((id) => id >= vocabSize);
    if (outside !== undefined)
      throw new Error(
        `${source}: field "${field}": token id ${outside} is outside the vocabulary (vocab_size ${vocabSize}: ids 0..${vocabSize - 1})`,
      );
  }
}

/** Reads `<dir>/config.json`. */
export function readModelConfig(dir: string): ModelConfig {
  const file = path.join(dir, "config.json");
  return parseHfConfig(readJsonFile(file, z.unknown()), file);
}

function ropeScalingJson(scaling: RopeScaling | null): Record<string, unknown> | null {
  if (scaling === null) return null;
  if (scaling.type === "linear") return { rope_type: "linear", factor: scaling.factor };
  return {
    rope_type: "llama3",
    factor: scaling.factor,
    low_freq_factor: scaling.lowFreqFactor,
    high_freq_factor: scaling.highFreqFactor,
    original_max_position_embeddings: scaling.originalMaxPositionEmbeddings,
  };
}

/** A `config.json` object that transformers loads as the same model (keys sorted as save_pretrained writes). */
export function toHfConfigJson(
  config: ModelConfig,
  options: { torchDtype?: TorchDtype } = {},
): Record<string, unknown> {
  validateConfig(config);
  if (config.architecture === "qwen2" && !(config.qkvBias && !config.oBias))
    throw new Error("Qwen2 config.json cannot express qkvBias/oBias other than true/false");
  if (config.architecture === "llama" && config.qkvBias !== config.oBias)
    throw new Error("Llama config.json has one attention_bias flag: qkvBias and oBias must be equal");
  const eos = config.eosTokenIds;
  const common: Record<string, unknown> = {
    architectures: [HF_CLASS[config.architecture]],
    attention_dropout: 0,
    bos_token_id: config.bosTokenId,
    eos_token_id: eos.length === 0 ? null : eos.length === 1 ? eos[0] : [...eos],
    head_dim: config.headDim,
    hidden_act: "silu",
    hidden_size: config.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: config.intermediateSize,
    max_position_embeddings: config.maxPositionEmbeddings,
    model_type: config.architecture,
    num_attention_heads: config.numHeads,
    num_hidden_layers: config.numLayers,
    num_key_value_heads: config.numKvHeads,
    rms_norm_eps: config.rmsNormEps,
    rope_scaling: ropeScalingJson(config.ropeScaling),
    rope_theta: config.ropeTheta,
    tie_word_embeddings: config.tieWordEmbeddings,
    torch_dtype: options.torchDtype ?? "float32",
    use_cache: true,
    vocab_size: config.vocabSize,
  };
  const specific: Record<string, unknown> =
    config.architecture === "llama"
      ? { attention_bias: config.qkvBias, mlp_bias: false, pretraining_tp: 1 }
      : { max_window_layers: config.numLayers, sliding_window: null, use_sliding_window: false };
  const merged = { ...common, ...specific };
  return Object.fromEntries(
    Object.keys(merged)
      .sort()
      .map((key) => [key, merged[key]]),
  );
}
