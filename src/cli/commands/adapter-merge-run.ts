/** The work behind `seal adapter merge` (loaded only when the command runs, since it needs the native addon). */
import { mergeAdapter } from "../../engine/lora.js";
import { loadModel, saveModel } from "../../io/model-files.js";
import {
  checkpointDtype,
  copyGenerationConfig,
  copyTokenizerFiles,
  refuseOverwrite,
  samePath,
} from "../../io/model-folder.js";
import { checkOutputFolder } from "../../io/output-path.js";
import { loadAdapter } from "../../io/peft.js";
import type { LoadableDtype } from "../../io/safetensors.js";
import type { MergeAdapterOptions } from "./adapter-merge.js";

export function mergeAdapterIntoModel(options: MergeAdapterOptions, log: (line: string) => void = () => {}): void {
  if (samePath(options.out, options.model)) throw new Error("--out must differ from --model");
  if (samePath(options.out, options.adapter)) throw new Error("--out must differ from --adapter");
  checkOutputFolder(options.out);
  refuseOverwrite(options.out, "config.json", options.force);
  const loaded = loadModel(options.model);
  const adapter = loadAdapter(options.adapter, loaded.config, {
    base: loaded.weights,
    strict: options.strict === true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  mergeAdapter(loaded.config, loaded.weights, adapter);
  const dtype =
    options.dtype === undefined ? checkpointDtype(options.model) : (options.dtype.toUpperCase() as LoadableDtype);
  saveModel(options.out, { config: loaded.config, weights: loaded.weights, dtype, eosTokenIds: loaded.eosTokenIds });
  copyGenerationConfig(options.model, options.out);
  const copied = copyTokenizerFiles(options.model, options.out);
  log(
    `merged ${options.adapter} (r ${adapter.config.rank}, alpha ${adapter.config.alpha}, ${adapter.config.targets.join(",")}) into ${options.model}`,
  );
  log(`wrote ${options.out} (${dtype}${copied.length > 0 ? `, with ${copied.join(", ")}` : ", no tokenizer files"})`);
}
