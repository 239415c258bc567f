/**
 * The engine's own batched figure for bench:serve: generate() on the same model with 16 prompts of the same length
 * as the server's prompt, decoded together in this process with no HTTP, no worker and no stop token (every
 * sequence runs max_tokens). It is the ceiling the server's aggregate tokens/s is compared with.
 */
import { generate } from "../src/engine/generate.js";
import { Model } from "../src/engine/model.js";
import { inspectModel, loadModel } from "../src/io/model-files.js";
import { loadTokenizer } from "../src/io/tokenizer.js";

export interface EngineFigure {
  tokens_per_s: number;
  prompts: number;
  prompt_tokens: number;
  max_tokens: number;
  rounds: number;
  seconds: number;
}

/** `text`'s tokens repeated or cut to exactly `length` ids. */
function promptOfLength(ids: number[], length: number): number[] {
  if (ids.length === 0) throw new Error("the prompt text has no tokens");
  const out: number[] = [];
  while (out.length < length) out.push(...ids);
  return out.slice(0, length);
}

export function engineDecodeFigure(
  modelDir: string,
  options: { text: string; promptTokens: number; maxTokens: number; prompts: number; minSeconds: number },
): EngineFigure {
  const loaded = loadModel(inspectModel(modelDir));
  const model = new Model(loaded.config, loaded.weights);
  const tokenizer = loadTokenizer(modelDir);
  const prompt = promptOfLength(tokenizer.encode(options.text), Math.max(1, options.promptTokens));
  const prompts = Array.from({ length: options.prompts }, () => prompt);
  const run = () =>
    generate(model, prompts, {
      temperature: 0,
      maxNewTokens: options.maxTokens,
      stopTokenIds: [],
      maxBatch: options.prompts,
      beyondContext: "stop",
    });
  run(); // warm-up: first-touch allocations and caches are not part of the figure
  let tokens = 0;
  let rounds = 0;
  const started = performance.now();
  while (rounds === 0 || performance.now() - started < options.minSeconds * 1000) {
    tokens += run().reduce((sum, g) => sum + g.tokens.length, 0);
    rounds++;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    tokens_per_s: tokens / seconds,
    prompts: options.prompts,
    prompt_tokens: prompt.length,
    max_tokens: options.maxTokens,
    rounds,
    seconds,
  };
}
