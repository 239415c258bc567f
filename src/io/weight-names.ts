/**
 * One table that maps Hugging Face tensor names onto ModelWeights fields, used by both loading and saving so the
 * two directions cannot disagree.
 */
import { type ModelConfig, type Projection, projectionShape } from "../engine/config.js";
import type { LayerWeights, ModelWeights } from "../engine/weights.js";
import type { NamedTensor } from "./safetensors.js";

type TopLevelKey = "embedTokens" | "finalNorm" | "lmHead";

export interface WeightSlot {
  name: string;
  shape: number[];
  /** Decoder layer index, or null for the top-level tensors. */
  layer: number | null;
  key: TopLevelKey | keyof LayerWeights;
}

const LAYER_MATRICES: Array<[keyof LayerWeights, Projection, "self_attn" | "mlp"]> = [
  ["qProj", "q_proj", "self_attn"],
  ["kProj", "k_proj", "self_attn"],
  ["vProj", "v_proj", "self_attn"],
  ["oProj", "o_proj", "self_attn"],
  ["gateProj", "gate_proj", "mlp"],
  ["upProj", "up_proj", "mlp"],
  ["downProj", "down_proj", "mlp"],
];

const BIASES: Array<[keyof LayerWeights, Projection]> = [
  ["qBias", "q_proj"],
  ["kBias", "k_proj"],
  ["vBias", "v_proj"],
  ["oBias", "o_proj"],
];

function hasBias(config: ModelConfig, projection: Projection): boolean {
  return projection === "o_proj" ? config.oBias : config.qkvBias;
}

/** Every tensor a checkpoint of this config holds: embeddings, then layer by layer, then final norm and head. */
export function weightSlots(config: ModelConfig): WeightSlot[] {
  const d = config.hiddenSize;
  const slots: WeightSlot[] = [
    { name: "model.embed_tokens.weight", shape: [config.vocabSize, d], layer: null, key: "embedTokens" },
  ];
  for (let i = 0; i < config.numLayers; i++) {
    const prefix = `model.layers.${i}`;
    slots.push({ name: `${prefix}.input_layernorm.weight`, shape: [d], layer: i, key: "inputNorm" });
    for (const [key, projection, block] of LAYER_MATRICES) {
      slots.push({
        name: `${prefix}.${block}.${projection}.weight`,
        shape: projectionShape(config, projection),
        layer: i,
        key,
      });
    }
    for (const [key, projection] of BIASES) {
      if (hasBias(config, projection))
        slots.push({
          name: `${prefix}.self_attn.${projection}.bias`,
          shape: [projectionShape(config, projection)[0]],
          layer: i,
          key,
        });
    }
    slots.push({ name: `${prefix}.post_attention_layernorm.weight`, shape: [d], layer: i, key: "postAttentionNorm" });
  }
  slots.push({ name: "model.norm.weight", shape: [d], layer: null, key: "finalNorm" });
  // Tied checkpoints store no lm_head: transformers reuses embed_tokens.
  if (!config.tieWordEmbeddings)
    slots.push({ name: "lm_head.weight", shape: [config.vocabSize, d], layer: null, key: "lmHead" });
  return slots;
}

function get(weights: ModelWeights, slot: WeightSlot): Float32Array | null {
  if (slot.layer === null) return weights[slot.key as TopLevelKey];
  return weights.layers[slot.layer]?.[slot.key as keyof LayerWeights] ?? null;
}

/** The tensors to save for `weights`, each checked against the config's shape. */
export function weightEntries(config: ModelConfig, weights: ModelWeights): NamedTensor[] {
  if (weights.layers.length !== config.numLayers)
    throw new Error(`weights have ${weights.layers.length} layers but the config says ${config.numLayers}`);
  weights.layers.forEach((layer, i) => {
    for (const [key, projection] of BIASES)
      if (!hasBias(config, projection) && layer[key] !== null)
        throw new Error(`layer ${i} has a ${projection} bias but the config has none (it would be dropped)`);
  });
  return weightSlots(config).map((slot) => {
    const data = get(weights, slot);
    const expected = slot.shape.reduce((a, b) => a * b, 1);
    if (data === null) throw new Error(`weight "${slot.name}" is missing (the config requires it)`);
    if (data.length !== expected)
      throw new Error(`weight "${slot.name}" has ${data.length} values, expected [${slot.shape.join(", ")}]`);
    return { name: slot.name, shape: slot.shape, data };
  });
}

/** Builds ModelWeights from loaded tensors keyed by HF name (all of `weightSlots(config)` must be present). */
export function assembleWeights(config: ModelConfig, tensors: ReadonlyMap<string, Float32Array>): ModelWeights {
  const need = (name: string): Float32Array => {
    const data = tensors.get(name);
    if (data === undefined) throw new Error(`missing tensor "${name}"`);
    return data;
  };
  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const prefix = `model.layers.${i}`;
    const bias = (projection: Projection) =>
      hasBias(config, projection) ? need(`${prefix}.self_attn.${projection}.bias`) : null;
    layers.push({
      inputNorm: need(`${prefix}.input_layernorm.weight`),
      qProj: need(`${prefix}.self_attn.q_proj.weight`),
      kProj: need(`${prefix}.self_attn.k_proj.weight`),
      vProj: need(`${prefix}.self_attn.v_proj.weight`),
      oProj: need(`${prefix}.self_attn.o_proj.weight`),
      qBias: bias("q_proj"),
      kBias: bias("k_proj"),
      vBias: bias("v_proj"),
      oBias: bias("o_proj"),
      postAttentionNorm: need(`${prefix}.post_attention_layernorm.weight`),
      gateProj: need(`${prefix}.mlp.gate_proj.weight`),
      upProj: need(`${prefix}.mlp.up_proj.weight`),
      downProj: need(`${prefix}.mlp.down_proj.weight`),
    });
  }
  const embedTokens = need("model.embed_tokens.weight");
  return {
    embedTokens,
    layers,
    finalNorm: need("model.norm.weight"),
    lmHead: config.tieWordEmbeddings ? embedTokens : need("lm_head.weight"),
  };
}

/** Parameter count of a config (tied embeddings counted once). */
export function parameterCount(config: ModelConfig): number {
  return weightSlots(config).reduce((sum, slot) => sum + slot.shape.reduce((a, b) => a * b, 1), 0);
}
