/**
 * `seal generate`: sample completions for prompts given on the command line or in a JSONL file, with an optional
 * LoRA adapter, writing one JSONL record per (prompt, sample).
 *
 * Prompts are raw text by default — SEAL's reference feeds its base models formatted prompts without a chat
 * template — and `--chat` renders them through the tokenizer's chat template with the assistant's turn opened.
 * Records holding `messages` always go through the chat template.
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { checkOutputFile } from "../../io/output-path.js";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";
import { toJsonl } from "./jsonl.js";
import { parseNonNegativeNumber, parseProbability } from "./parsers.js";

export interface GenerateCommandOptions {
  model: string;
  adapter?: string;
  strict?: boolean;
  tokenizer?: string;
  prompt?: string[];
  prompts?: string;
  chat?: boolean;
  n: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxNewTokens?: number;
  stop?: string[];
  seed: number;
  batch: number;
  out?: string;
  allowRopeExtrapolation?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command("generate")
    .description("sample completions for prompts (JSONL records to --out or stdout)")
    .requiredOption("--model <dir>", "model folder (Hugging Face layout, with its tokenizer)")
    .option("--adapter <dir>", "apply this PEFT LoRA adapter")
    .option("--strict", "refuse an --adapter trained on a different base model (default: warn)")
    .option("--tokenizer <path>", "tokenizer folder (default: the model folder)")
    .option("--prompt <text...>", "one or more prompts")
    .option("--prompts <file>", 'JSONL file: {"prompt": "..."} or {"messages": [...]} per line')
    .option("--chat", "render --prompt / {prompt} texts as a user message through the chat template")
    .option("--n <n>", "samples per prompt", parsePositiveInt, 1)
    .option(
      "--temperature <t>",
      "sampling temperature, 0 = greedy (default: generation_config.json's, else 1)",
      parseNonNegativeNumber,
    )
    .option("--top-p <p>", "nucleus sampling mass (default: generation_config.json's, else 1)", parseProbability)
    .option(
      "--top-k <k>",
      "keep the k most likely tokens, 0 = off (default: generation_config.json's, else 0)",
      parseNonNegativeInt,
    )
    .option(
      "--max-new-tokens <n>",
      "tokens to generate at most (default: generation_config.json's, else 256)",
      parsePositiveInt,
    )
    .option("--stop <text...>", "stop strings (cut from the completion)")
    .option("--seed <n>", "random seed", parseNonNegativeInt, 0)
    .option("--batch <n>", "sequences decoded together", parsePositiveInt, 16)
    .option("--out <file>", "write the JSONL records here (atomically) instead of stdout")
    .option(
      "--allow-rope-extrapolation",
      "let a prompt plus --max-new-tokens run past the model's max_position_embeddings (refused otherwise)",
    )
    .action(async (options: GenerateCommandOptions) => {
      if (options.out !== undefined) checkOutputFile(options.out);
      const { runGenerate } = await import("./generate-run.js");
      const records = runGenerate(options);
      const text = toJsonl(records);
      if (options.out === undefined) process.stdout.write(text);
      else {
        fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
        writeFileAtomic(path.resolve(options.out), text);
      }
    });
}
