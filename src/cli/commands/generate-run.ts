/** The work behind `seal generate` (loaded only when the command runs, since it needs the native addon). */
import { z } from "zod";
import {
  contextOverflow,
  type GenerateOptions,
  type GenerateProgressCallback,
  type Generation,
  generate,
} from "../../engine/generate.js";
import { Model } from "../../engine/model.js";
import type { GenerationConfig } from "../../io/generation-config.js";
import { validateJson } from "../../io/json-file.js";
import { inspectModel, loadModel } from "../../io/model-files.js";
import { loadAdapter } from "../../io/peft.js";
import { type ChatMessage, checkTokenizerFitsModel, loadTokenizer, type TextTokenizer } from "../../io/tokenizer.js";
import type { GenerateCommandOptions } from "./generate.js";
import { chatMessagesSchema, readJsonlFile, where } from "./jsonl.js";

/** One prompt as the model sees it. */
export interface PromptInput {
  /** The text given to the tokenizer (after the chat template, when one was applied). */
  text: string;
  /** Whether the chat template produced `text` (its special tokens are in the text, so none are added). */
  templated: boolean;
}

/** One output line. */
export interface GenerationRecord {
  prompt_index: number;
  sample_index: number;
  /** The text the model was given (after the chat template when one was applied). */
  prompt: string;
  /** The decoded completion (special tokens skipped), cut before a stop string. */
  completion: string;
  /** "stop_token", "stop_string" or "length". */
  finish_reason: Generation["finishReason"];
  /** The generated ids, ending with the stop token when one ended the sequence (the text never shows it). */
  tokens: number[];
}

const promptLineSchema = z.looseObject({ prompt: z.string() });
const messagesLineSchema = z.looseObject({ messages: chatMessagesSchema });

/** A prompt as given: text, or a conversation for the chat template. */
export type PromptSource = { where: string } & ({ text: string } | { messages: ChatMessage[] });

/**
 * Prompts from `--prompt` texts or a `--prompts` JSONL file (`{"prompt": ...}` or `{"messages": [...]}` lines),
 * validated before any model is loaded.
 */
export function readPromptSources(options: GenerateCommandOptions): PromptSource[] {
  const given = (options.prompt !== undefined ? 1 : 0) + (options.prompts !== undefined ? 1 : 0);
  if (given !== 1) throw new Error("give either --prompt <text...> or --prompts <file.jsonl>");
  if (options.prompt !== undefined) return options.prompt.map((text, i) => ({ where: `--prompt #${i + 1}`, text }));
  const file = options.prompts as string;
  return readJsonlFile(file).map((record) => {
    const at = where(file, record);
    const value = record.value;
    if (
      typeof value !== "object" ||
      value === null ||
      Array.isArray(value) ||
      !("prompt" in value || "messages" in value)
    )
      throw new Error(`${at}: expected an object with a "prompt" string or a "messages" list`);
    if ("prompt" in value && "messages" in value) throw new Error(`${at}: give "prompt" or "messages", not both`);
    if ("messages" in value) return { where: at, messages: validateJson(value, messagesLineSchema, at).messages };
    return { where: at, text: validateJson(value, promptLineSchema, at).prompt };
  });
}

/** The text the model is given: raw, or rendered with the chat template (`--chat`, or a conversation). */
export function renderPrompt(source: PromptSource, tokenizer: TextTokenizer, chat: boolean): PromptInput {
  try {
    if ("messages" in source)
      return { text: tokenizer.applyChatTemplate(source.messages, { addGenerationPrompt: true }), templated: true };
    if (!chat) return { text: source.text, templated: false };
    const messages = [{ role: "user", content: source.text }];
    return { text: tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }), templated: true };
  } catch (error) {
    throw new Error(`${source.where}: ${(error as Error).message}`);
  }
}

/**
 * Sampling defaults: the model's generation_config.json where it sets them (as vLLM and transformers read it;
 * `do_sample: false` means greedy), else temperature 1, top-p 1, no top-k, 256 new tokens.
 */
export function samplingDefaults(
  config: GenerationConfig | null,
): Pick<GenerateOptions, "temperature" | "topP" | "topK" | "maxNewTokens"> {
  const defaults = { temperature: 1, topP: 1, topK: 0, maxNewTokens: 256 };
  if (config === null) return defaults;
  if (config.doSample === false) defaults.temperature = 0;
  else {
    if (config.temperature !== undefined) defaults.temperature = config.temperature;
    if (config.topP !== undefined) defaults.topP = config.topP;
    if (config.topK !== undefined) defaults.topK = config.topK;
  }
  if (config.maxNewTokens !== undefined) defaults.maxNewTokens = config.maxNewTokens;
  return defaults;
}

/** Writes sequences done and tokens/s on one TTY line; silent when stderr is not a terminal. */
function progressReporter(): { update: GenerateProgressCallback; end: (line: string) => void } {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let lastDraw = 0;
  return {
    update({ finished, total, generatedTokens }) {
      if (!tty) return;
      const now = performance.now();
      if (finished < total && now - lastDraw < 100) return;
      lastDraw = now;
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? generatedTokens / seconds : 0;
      process.stderr.write(
        `\rgenerating: ${finished}/${total} sequences, ${generatedTokens} tokens, ${rate.toFixed(1)} tokens/s`,
      );
    },
    end(line) {
      if (tty) process.stderr.write(`\r\x1b[K${line}\n`);
    },
  };
}

/**
 * Refuses prompts that, with `maxNewTokens`, run past the model's max_position_embeddings, unless
 * --allow-rope-extrapolation asks for it (then says so once on stderr).
 */
export function checkPromptsFitContext(
  options: Pick<GenerateCommandOptions, "allowRopeExtrapolation">,
  maxPositions: number,
  promptIds: number[][],
  sources: PromptSource[],
  maxNewTokens: number,
): void {
  const lengths = promptIds.map((ids) => ids.length);
  const overflow = contextOverflow(maxPositions, lengths, maxNewTokens, (i) => sources[i].where);
  if (overflow === null) return;
  if (options.allowRopeExtrapolation === true)
    process.stderr.write(`seal: warning: ${overflow}; extrapolating RoPE (--allow-rope-extrapolation)\n`);
  else
    throw new Error(
      `${overflow}; lower --max-new-tokens, shorten the prompt, or pass --allow-rope-extrapolation to go past it knowingly`,
    );
}

export function runGenerate(options: GenerateCommandOptions): GenerationRecord[] {
  const sources = readPromptSources(options);
  // Configs, weight headers, tokenizer and prompt lengths are all checked before the weights are read.
  const inspected = inspectModel(options.model);
  const tokenizerSource = options.tokenizer ?? options.model;
  const tokenizer = loadTokenizer(tokenizerSource);
  checkTokenizerFitsModel(tokenizer, inspected.config, tokenizerSource);
  const prompts = sources.map((source) => renderPrompt(source, tokenizer, options.chat === true));
  const promptIds = prompts.map((prompt, i) => {
    const ids = tokenizer.encode(prompt.text, { addSpecialTokens: !prompt.templated });
    if (ids.length === 0) throw new Error(`${sources[i].where}: the prompt is empty (no tokens)`);
    return ids;
  });
  const defaults = samplingDefaults(inspected.generationConfig);
  const maxNewTokens = options.maxNewTokens ?? defaults.maxNewTokens;
  checkPromptsFitContext(options, inspected.config.maxPositionEmbeddings, promptIds, sources, maxNewTokens);

  const loaded = loadModel(inspected);
  const model = new Model(loaded.config, loaded.weights);
  if (options.adapter !== undefined)
    model.adapter = loadAdapter(options.adapter, loaded.config, {
      base: loaded.weights,
      strict: options.strict === true,
      log: (line) => process.stderr.write(`${line}\n`),
    });
  const generateOptions: Partial<GenerateOptions> = {
    temperature: options.temperature ?? defaults.temperature,
    topP: options.topP ?? defaults.topP,
    topK: options.topK ?? defaults.topK,
    maxNewTokens,
    beyondContext: options.allowRopeExtrapolation === true ? "extrapolate" : "refuse",
    n: options.n,
    stopTokenIds: [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])],
    stopStrings: options.stop ?? [],
    seed: options.seed,
    maxBatch: options.batch,
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
  };
  const progress = progressReporter();
  const started = performance.now();
  const generations = generate(model, promptIds, generateOptions, progress.update);
  const seconds = (performance.now() - started) / 1000;
  const tokens = generations.reduce((sum, g) => sum + g.tokens.length, 0);
  progress.end(
    `generated ${generations.length} sequences, ${tokens} tokens in ${seconds.toFixed(1)} s (${(tokens / seconds).toFixed(1)} tokens/s)`,
  );
  return generations.map((g) => ({
    prompt_index: g.promptIndex,
    sample_index: g.sampleIndex,
    prompt: prompts[g.promptIndex].text,
    completion: g.text ?? "",
    finish_reason: g.finishReason,
    tokens: g.tokens,
  }));
}
