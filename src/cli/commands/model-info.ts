/** `seal model info`: what a model folder holds, read from config.json and the safetensors headers. */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { ModelConfig } from "../../engine/config.js";
import { readGenerationConfig } from "../../io/generation-config.js";
import { readModelConfig } from "../../io/hf-config.js";
import { INDEX_FILE, isIgnoredTensor, locateWeights, weightProblems } from "../../io/model-files.js";
import { checkTokenizerFitsModel, loadTokenizer, TOKENIZER_FILE } from "../../io/tokenizer.js";

export interface ModelInfo {
  dir: string;
  config: ModelConfig;
  parameters: number;
  weightFiles: string[];
  dtypes: string[];
  tokenizer: { vocabSize: number; chatTemplate: boolean; fitsModel: boolean } | null;
  /** How the weights contradict config.json (empty when they match); the command then exits non-zero. */
  problems: string[];
}

export function describeModel(dir: string): ModelInfo {
  const config = readModelConfig(dir);
  readGenerationConfig(dir, config.vocabSize); // validated (token ids in the vocabulary), not shown
  const located = locateWeights(dir);
  const problems = weightProblems(dir, config, located);
  let parameters = 0;
  const dtypes = new Set<string>();
  const files = new Set<string>();
  for (const [name, { file, info }] of located) {
    files.add(path.basename(file));
    if (isIgnoredTensor(name, config)) continue;
    parameters += info.shape.reduce((a, b) => a * b, 1);
    dtypes.add(info.dtype);
  }
  if (fs.existsSync(path.join(dir, INDEX_FILE))) files.add(INDEX_FILE);
  let tokenizer: ModelInfo["tokenizer"] = null;
  if (fs.existsSync(path.join(dir, TOKENIZER_FILE))) {
    const loaded = loadTokenizer(dir);
    let fitsModel = true;
    try {
      checkTokenizerFitsModel(loaded, config, dir);
    } catch {
      fitsModel = false;
    }
    tokenizer = { vocabSize: loaded.vocabSize, chatTemplate: loaded.hasChatTemplate, fitsModel };
  }
  const weightFiles = [...files].sort();
  return { dir, config, parameters, weightFiles, dtypes: [...dtypes].sort(), tokenizer, problems };
}

export function formatModelInfo(info: ModelInfo): string {
  const c = info.config;
  const scaling = c.ropeScaling === null ? "none" : `${c.ropeScaling.type} ×${c.ropeScaling.factor}`;
  const lines = [
    `model:        ${info.dir}`,
    `architecture: ${c.architecture}`,
    `parameters:   ${info.parameters.toLocaleString("en-US")}${c.tieWordEmbeddings ? " (tied embeddings)" : ""}`,
    `shape:        ${c.numLayers} layers, hidden ${c.hiddenSize}, mlp ${c.intermediateSize}, heads ${c.numHeads} (kv ${c.numKvHeads}, dim ${c.headDim}), vocab ${c.vocabSize}`,
    `rope:         theta ${c.ropeTheta}, scaling ${scaling}, max positions ${c.maxPositionEmbeddings}`,
    `weights:      ${info.weightFiles.join(", ")} (${info.dtypes.join(", ")})`,
  ];
  const t = info.tokenizer;
  lines.push(
    t === null
      ? "tokenizer:    none"
      : `tokenizer:    vocab ${t.vocabSize}, chat template ${t.chatTemplate ? "yes" : "no"}${t.fitsModel ? "" : " — MISMATCH: ids exceed the model's vocab_size"}`,
  );
  if (info.problems.length > 0)
    lines.push("MISMATCH:     the weights do not match config.json", ...info.problems.map((p) => `  - ${p}`));
  return lines.join("\n");
}

export function registerModelInfo(group: Command): void {
  group
    .command("info")
    .description(
      "describe a model folder: architecture, parameter count, weight dtypes, tokenizer; exits 1 when the weights contradict config.json",
    )
    .requiredOption("--model <dir>", "model folder (Hugging Face layout)")
    .option("--json", "print JSON instead of text")
    .action((options: { model: string; json?: boolean }) => {
      const info = describeModel(options.model);
      process.stdout.write(`${options.json ? JSON.stringify(info, null, 2) : formatModelInfo(info)}\n`);
      if (info.problems.length > 0)
        throw new Error(
          `${options.model}: weights do not match config.json (${info.problems.length} problem${info.problems.length === 1 ? "" : "s"}, listed above)`,
        );
    });
}
