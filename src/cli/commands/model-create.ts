/** `seal model create`: a randomly initialised model from a preset, in Hugging Face layout. */
import fs from "node:fs";
import path from "node:path";
import { type Command, Option } from "commander";
import { type Architecture, type ModelConfig, validateConfig } from "../../engine/config.js";
import { writeAtomically } from "../../io/atomic-file.js";
import { PRESETS, presetConfig } from "../../io/hf-config.js";
import { saveModel } from "../../io/model-files.js";
import { checkOutputFolder } from "../../io/output-path.js";
import { createRandomModel } from "../../io/random-model.js";
import type { LoadableDtype } from "../../io/safetensors.js";
import { loadTokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, tokenizerDir } from "../../io/tokenizer.js";
import { parameterCount } from "../../io/weight-names.js";
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";

export interface CreateModelOptions {
  arch?: Architecture;
  preset?: string;
  out: string;
  tokenizer?: string;
  seed: number;
  dtype: "f32" | "bf16" | "f16";
  force?: boolean;
  layers?: number;
  hiddenSize?: number;
  intermediateSize?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  vocabSize?: number;
  maxPositions?: number;
  ropeTheta?: number;
}

/** Files copied with --tokenizer; the first two are required. */
const TOKENIZER_FILES = [
  TOKENIZER_FILE,
  TOKENIZER_CONFIG_FILE,
  "special_tokens_map.json",
  "chat_template.jinja",
  "chat_template.json",
];

/** The preset, with the command-line overrides applied (head_dim follows hidden/heads unless given). */
export function configFromOptions(options: CreateModelOptions): { config: ModelConfig; preset: string } {
  if (options.preset === undefined && options.arch === undefined) throw new Error("give --preset or --arch");
  // `--preset tiny` means the tiny preset of --arch (qwen2 when no architecture is given)
  const preset =
    options.preset === undefined || options.preset === "tiny" ? `tiny-${options.arch ?? "qwen2"}` : options.preset;
  const config = presetConfig(preset);
  if (options.arch !== undefined && options.arch !== config.architecture)
    throw new Error(`--arch ${options.arch} conflicts with preset ${preset}, which is ${config.architecture}`);
  if (options.layers !== undefined) config.numLayers = options.layers;
  if (options.hiddenSize !== undefined) config.hiddenSize = options.hiddenSize;
  if (options.intermediateSize !== undefined) config.intermediateSize = options.intermediateSize;
  if (options.heads !== undefined) config.numHeads = options.heads;
  if (options.kvHeads !== undefined) config.numKvHeads = options.kvHeads;
  if (options.vocabSize !== undefined) config.vocabSize = options.vocabSize;
  if (options.maxPositions !== undefined) config.maxPositionEmbeddings = options.maxPositions;
  if (options.ropeTheta !== undefined) config.ropeTheta = options.ropeTheta;
  if (options.headDim !== undefined) config.headDim = options.headDim;
  else if (options.hiddenSize !== undefined || options.heads !== undefined) {
    if (config.hiddenSize % config.numHeads !== 0)
      throw new Error(
        `hidden size ${config.hiddenSize} is not divisible by ${config.numHeads} heads (or give --head-dim)`,
      );
    config.headDim = config.hiddenSize / config.numHeads;
  }
  validateConfig(config);
  return { config, preset };
}

export function createModel(options: CreateModelOptions, log: (line: string) => void = () => {}): ModelConfig {
  const { config, preset } = configFromOptions(options);
  const out = options.out;
  checkOutputFolder(out);
  if (fs.existsSync(path.join(out, "config.json")) && !options.force)
    throw new Error(`${out} already holds a model (config.json); pass --force to overwrite`);

  let tokenizerSource: string | null = null;
  if (options.tokenizer !== undefined) {
    tokenizerSource = tokenizerDir(options.tokenizer);
    const tokenizer = loadTokenizer(tokenizerSource);
    // The embedding table must cover every id the tokenizer emits, and the stop tokens must be its own.
    config.vocabSize = Math.max(config.vocabSize, tokenizer.vocabSize);
    config.bosTokenId = tokenizer.bosTokenId;
    if (tokenizer.eosTokenIds.length > 0) config.eosTokenIds = [...tokenizer.eosTokenIds];
  }
  const dtype = options.dtype.toUpperCase() as LoadableDtype;
  log(
    `creating ${config.architecture} model from preset ${preset}: ${parameterCount(config).toLocaleString("en-US")} parameters`,
  );
  const weights = createRandomModel(config, options.seed);
  saveModel(out, { config, weights, dtype });
  if (tokenizerSource !== null) {
    for (const name of TOKENIZER_FILES) {
      const source = path.join(tokenizerSource, name);
      if (!fs.existsSync(source)) {
        if (name === TOKENIZER_FILE || name === TOKENIZER_CONFIG_FILE)
          throw new Error(`${tokenizerSource}: no ${name}`);
        continue;
      }
      writeAtomically(path.join(out, name), (tempPath) => fs.copyFileSync(source, tempPath));
    }
  }
  log(`wrote ${out}`);
  return config;
}

export function registerModelCreate(group: Command): void {
  group
    .command("create")
    .description("create a randomly initialised model (Hugging Face layout) from a preset")
    .addOption(new Option("--arch <arch>", "architecture (default preset: tiny-<arch>)").choices(["llama", "qwen2"]))
    .addOption(
      new Option("--preset <name>", "model shape (tiny = tiny-<arch>)").choices(["tiny", ...Object.keys(PRESETS)]),
    )
    .requiredOption("--out <dir>", "folder to write the model into")
    .option(
      "--tokenizer <path>",
      "copy tokenizer.json + tokenizer_config.json from this folder (or file), raising vocab to fit",
    )
    .option("--seed <n>", "random seed", parseNonNegativeInt, 0)
    .addOption(new Option("--dtype <dtype>", "on-disk dtype").choices(["f32", "bf16", "f16"]).default("f32"))
    .option("--force", "overwrite an existing model in --out")
    .option("--layers <n>", "override the number of layers", parsePositiveInt)
    .option("--hidden-size <n>", "override the hidden size", parsePositiveInt)
    .option("--intermediate-size <n>", "override the MLP size", parsePositiveInt)
    .option("--heads <n>", "override the attention heads", parsePositiveInt)
    .option("--kv-heads <n>", "override the key/value heads", parsePositiveInt)
    .option("--head-dim <n>", "override the head dimension (default hidden/heads when those change)", parsePositiveInt)
    .option("--vocab-size <n>", "override the vocabulary size", parsePositiveInt)
    .option("--max-positions <n>", "override max_position_embeddings", parsePositiveInt)
    .option("--rope-theta <x>", "override the RoPE base", parsePositiveNumber)
    .action((options: CreateModelOptions) => {
      createModel(options, (line) => process.stdout.write(`${line}\n`));
    });
}
