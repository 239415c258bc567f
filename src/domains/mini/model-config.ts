/**
 * The SEAL-mini base model's shape: a 4-layer Llama (≈ 3.7 M parameters with the world's ≈ 1.4 k-token vocabulary,
 * embeddings tied), small enough to pretrain on 2 CPU cores in about half an hour and to run hundreds of SEAL inner
 * loops in minutes, large enough to learn the world's prose, closed-book QA and self-edit formats.
 */
import fs from "node:fs";
import path from "node:path";
import type { ModelConfig } from "../../engine/config.js";
import { writeJsonFile } from "../../io/json-file.js";
import type { MiniWorldOptions } from "./files.js";

/** Beside a mini model's weights: which world it was pretrained on, so the demo regenerates the same world. */
export const MINI_MODEL_INFO_FILE = "seal_mini.json";

export interface MiniModelInfo {
  worldVersion: number;
  seed: number;
  world: Partial<MiniWorldOptions>;
}

export function writeMiniModelInfo(modelDir: string, info: MiniModelInfo): void {
  writeJsonFile(path.join(modelDir, MINI_MODEL_INFO_FILE), info);
}

/** The world a mini model was pretrained on; a clear error for a folder that is not a SEAL-mini model. */
export function readMiniModelInfo(modelDir: string): MiniModelInfo {
  const file = path.join(modelDir, MINI_MODEL_INFO_FILE);
  if (!fs.existsSync(file))
    throw new Error(
      `${modelDir}: not a SEAL-mini model (no ${MINI_MODEL_INFO_FILE}; make one with \`seal mini pretrain\`)`,
    );
  const info = JSON.parse(fs.readFileSync(file, "utf8")) as MiniModelInfo;
  if (typeof info.worldVersion !== "number" || typeof info.seed !== "number")
    throw new Error(`${file}: expected numbers worldVersion and seed`);
  return info;
}

export function miniModelConfig(vocabSize: number, eosTokenId: number): ModelConfig {
  return {
    architecture: "llama",
    vocabSize,
    hiddenSize: 256,
    intermediateSize: 768,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 4,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 1024,
    tieWordEmbeddings: true,
    qkvBias: false,
    oBias: false,
    bosTokenId: null,
    eosTokenIds: [eosTokenId],
  };
}
