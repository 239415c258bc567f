/**
 * `seal adapter merge`: fold a PEFT LoRA adapter into its base model's weights (W += alpha/r · B·A) and save the
 * result as a plain Hugging Face model folder, with the base's tokenizer files and generation_config.json.
 */
import { type Command, Option } from "commander";

export interface MergeAdapterOptions {
  model: string;
  adapter: string;
  out: string;
  dtype?: "f32" | "bf16" | "f16";
  force?: boolean;
  strict?: boolean;
}

export function registerAdapterMerge(group: Command): void {
  group
    .command("merge")
    .description("merge a PEFT LoRA adapter into its base model and save a Hugging Face model folder")
    .requiredOption("--model <dir>", "base model folder")
    .requiredOption("--adapter <dir>", "adapter folder (adapter_config.json + adapter_model.safetensors)")
    .requiredOption("--out <dir>", "folder to write the merged model into")
    .addOption(
      new Option("--dtype <dtype>", "on-disk dtype (default: the base checkpoint's)").choices(["f32", "bf16", "f16"]),
    )
    .option("--force", "overwrite an existing model in --out")
    .option("--strict", "refuse an adapter trained on a different base model (default: warn)")
    .action(async (options: MergeAdapterOptions) => {
      const { mergeAdapterIntoModel } = await import("./adapter-merge-run.js");
      mergeAdapterIntoModel(options, (line) => process.stdout.write(`${line}\n`));
    });
}
