/** `seal adapter info`: what a PEFT adapter folder holds, from adapter_config.json and the safetensors header. */
import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { compareAdapterBase, readAdapterBaseRecord } from "../../io/adapter-base.js";
import { BASE_FINGERPRINT_METHOD, baseModelFingerprint } from "../../io/base-fingerprint.js";
import { readJsonFile } from "../../io/json-file.js";
import { loadModel } from "../../io/model-files.js";
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, loadAdapter } from "../../io/peft.js";
import { readSafetensorsHeader } from "../../io/safetensors.js";

export interface AdapterInfo {
  dir: string;
  peftType: string;
  rank: number;
  alpha: number;
  dropout: number;
  targets: string[] | string;
  baseModel: string | null;
  /** The base model's fingerprint from seal_adapter.json, or null (then `baseNote` says why). */
  baseFingerprint: string | null;
  baseNote?: string;
  layers: number[];
  tensors: number;
  parameters: number;
  dtypes: string[];
  /** Set when checked against a model with --model: whether the adapter loads for it. */
  fitsModel?: boolean;
  problem?: string;
  /** Set with --model: "yes", "no" (trained on a different base) or "unknown" (no usable record). */
  sameBase?: "yes" | "no" | "unknown";
  sameBaseNote?: string;
}

const infoSchema = z.looseObject({
  peft_type: z.string(),
  r: z.number().int().positive(),
  lora_alpha: z.number(),
  lora_dropout: z.number().default(0),
  target_modules: z.union([z.array(z.string()), z.string()], { error: "expected a list of module names or a regex" }),
  base_model_name_or_path: z.string().nullish(),
});

const LAYER = /\.layers\.(\d+)\./;

export function describeAdapter(dir: string, modelDir?: string): AdapterInfo {
  const config = readJsonFile(path.join(dir, ADAPTER_CONFIG_FILE), infoSchema);
  const header = readSafetensorsHeader(path.join(dir, ADAPTER_WEIGHTS_FILE));
  const layers = new Set<number>();
  const dtypes = new Set<string>();
  let parameters = 0;
  for (const [name, info] of header.tensors) {
    const match = LAYER.exec(name);
    if (match !== null) layers.add(Number(match[1]));
    dtypes.add(info.dtype);
    parameters += info.shape.reduce((a, b) => a * b, 1);
  }
  const found = readAdapterBaseRecord(dir, path.join(dir, ADAPTER_WEIGHTS_FILE));
  const info: AdapterInfo = {
    dir,
    peftType: config.peft_type,
    rank: config.r,
    alpha: config.lora_alpha,
    dropout: config.lora_dropout,
    targets: config.target_modules,
    baseModel: config.base_model_name_or_path ?? null,
    baseFingerprint: "record" in found ? found.record.fingerprint : null,
    ...("missing" in found ? { baseNote: found.missing } : {}),
    layers: [...layers].sort((a, b) => a - b),
    tensors: header.tensors.size,
    parameters,
    dtypes: [...dtypes].sort(),
  };
  if (modelDir !== undefined) {
    const model = loadModel(modelDir);
    try {
      loadAdapter(dir, model.config);
      info.fitsModel = true;
    } catch (error) {
      info.fitsModel = false;
      info.problem = (error as Error).message;
    }
    const verdict = compareAdapterBase(
      dir,
      found,
      baseModelFingerprint(model.config, model.weights),
      BASE_FINGERPRINT_METHOD,
    );
    info.sameBase = verdict.kind === "same" ? "yes" : verdict.kind === "different" ? "no" : "unknown";
    if (verdict.kind !== "same") info.sameBaseNote = verdict.message;
  }
  return info;
}

export function formatAdapterInfo(info: AdapterInfo): string {
  const targets = Array.isArray(info.targets) ? info.targets.join(", ") : `/${info.targets}/`;
  const lines = [
    `adapter:    ${info.dir}`,
    `type:       ${info.peftType}, r ${info.rank}, alpha ${info.alpha} (scale ${(info.alpha / info.rank).toPrecision(4)}), dropout ${info.dropout}`,
    `targets:    ${targets}`,
    `layers:     ${info.layers.length === 0 ? "none" : `${info.layers.length} (${info.layers[0]}–${info.layers[info.layers.length - 1]})`}`,
    `parameters: ${info.parameters.toLocaleString("en-US")} in ${info.tensors} tensors (${info.dtypes.join(", ")})`,
    `base model: ${info.baseModel ?? "unknown"}`,
    `base fingerprint: ${info.baseFingerprint ?? `none — ${info.baseNote}`}`,
  ];
  if (info.fitsModel !== undefined) lines.push(`fits model: ${info.fitsModel ? "yes" : `no — ${info.problem}`}`);
  if (info.sameBase !== undefined)
    lines.push(`same base:  ${info.sameBase}${info.sameBaseNote === undefined ? "" : ` — ${info.sameBaseNote}`}`);
  return lines.join("\n");
}

export function registerAdapterInfo(group: Command): void {
  group
    .command("info")
    .description("describe a PEFT LoRA adapter folder: rank, alpha, targets, layers, parameter count")
    .requiredOption("--adapter <dir>", "adapter folder")
    .option("--model <dir>", "also check that the adapter loads for this model")
    .option("--json", "print JSON instead of text")
    .action((options: { adapter: string; model?: string; json?: boolean }) => {
      const info = describeAdapter(options.adapter, options.model);
      process.stdout.write(`${options.json ? JSON.stringify(info, null, 2) : formatAdapterInfo(info)}\n`);
    });
}
