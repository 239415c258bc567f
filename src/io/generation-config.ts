/**
 * Optional `generation_config.json`: the stop tokens (often more than config.json lists, e.g. Qwen2.5-Instruct's
 * <|im_end|>) and the model author's sampling defaults.
 */
import path from "node:path";
import { z } from "zod";
import { checkTokenIds } from "./hf-config.js";
import { entryExists } from "./input-file.js";
import { readJsonFile, writeJsonFile } from "./json-file.js";

export interface GenerationConfig {
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  doSample?: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
}

const tokenId = z.number().int().nonnegative();

const generationConfigSchema = z.looseObject({
  bos_token_id: tokenId.nullish(),
  eos_token_id: z.union([tokenId, z.array(tokenId)], { error: "expected a token id or a list of token ids" }).nullish(),
  pad_token_id: tokenId.nullish(),
  do_sample: z.boolean().nullish(),
  temperature: z.number().nonnegative().nullish(),
  top_p: z.number().gt(0).lte(1).nullish(),
  top_k: z.number().int().nonnegative().nullish(),
  repetition_penalty: z.number().positive().nullish(),
  max_new_tokens: z.number().int().positive().nullish(),
});

/**
 * Reads `<dir>/generation_config.json`, or returns null when the model has none. With `vocabSize` (config.json's),
 * token ids outside the vocabulary are refused.
 */
export function readGenerationConfig(dir: string, vocabSize?: number): GenerationConfig | null {
  const file = path.join(dir, "generation_config.json");
  // A broken link or a directory under that name is reported (by readJsonFile), not taken for "none".
  if (!entryExists(file)) return null;
  const json = readJsonFile(file, generationConfigSchema);
  const eos = json.eos_token_id;
  const result: GenerationConfig = {
    bosTokenId: json.bos_token_id ?? null,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
    padTokenId: json.pad_token_id ?? null,
  };
  if (vocabSize !== undefined)
    checkTokenIds(
      file,
      { bos_token_id: result.bosTokenId, eos_token_id: result.eosTokenIds, pad_token_id: result.padTokenId },
      vocabSize,
    );
  if (json.do_sample != null) result.doSample = json.do_sample;
  if (json.temperature != null) result.temperature = json.temperature;
  if (json.top_p != null) result.topP = json.top_p;
  if (json.top_k != null) result.topK = json.top_k;
  if (json.repetition_penalty != null) result.repetitionPenalty = json.repetition_penalty;
  if (json.max_new_tokens != null) result.maxNewTokens = json.max_new_tokens;
  return result;
}

/** The `generation_config.json` object for a config (only the fields that are set). */
export function toGenerationConfigJson(config: GenerationConfig): Record<string, unknown> {
  const eos = config.eosTokenIds;
  const json: Record<string, unknown> = {
    bos_token_id: config.bosTokenId,
    eos_token_id: eos.length === 0 ? null : eos.length === 1 ? eos[0] : [...eos],
  };
  if (config.padTokenId !== null) json.pad_token_id = config.padTokenId;
  if (config.doSample !== undefined) json.do_sample = config.doSample;
  if (config.temperature !== undefined) json.temperature = config.temperature;
  if (config.topP !== undefined) json.top_p = config.topP;
  if (config.topK !== undefined) json.top_k = config.topK;
  if (config.repetitionPenalty !== undefined) json.repetition_penalty = config.repetitionPenalty;
  if (config.maxNewTokens !== undefined) json.max_new_tokens = config.maxNewTokens;
  return json;
}

export function writeGenerationConfig(dir: string, config: GenerationConfig): void {
  writeJsonFile(path.join(dir, "generation_config.json"), toGenerationConfigJson(config));
}
