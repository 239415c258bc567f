/**
 * A Hugging Face fast tokenizer (`tokenizer.json` + `tokenizer_config.json`) through `@huggingface/tokenizers`,
 * with the model's chat template. Behaviour (special tokens added on encode, spaces cleaned on decode) follows
 * the files, as transformers' PreTrainedTokenizerFast does.
 */
import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { z } from "zod";
import type { ModelConfig } from "../engine/config.js";
import {
  type ChatMessage,
  type ChatTemplateOptions,
  type ChatTemplateSource,
  renderChatTemplate,
  selectChatTemplate,
} from "./chat-template.js";
import { parseJsonText, readJsonFile, validateJson } from "./json-file.js";
import { readTextFile } from "./text-file.js";

export type { ChatMessage, ChatTemplateOptions } from "./chat-template.js";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

/** A special token is written either as its text or as a serialized AddedToken. */
const specialToken = z.union([z.string(), z.looseObject({ content: z.string() }).transform((token) => token.content)], {
  error: "expected a token string or an object with a content string",
});

const namedTemplates = z.array(z.object({ name: z.string(), template: z.string() }));

const tokenizerConfigSchema = z.looseObject({
  bos_token: specialToken.nullish(),
  eos_token: specialToken.nullish(),
  unk_token: specialToken.nullish(),
  sep_token: specialToken.nullish(),
  pad_token: specialToken.nullish(),
  cls_token: specialToken.nullish(),
  mask_token: specialToken.nullish(),
  additional_special_tokens: z.array(specialToken).nullish(),
  chat_template: z
    .union([z.string(), namedTemplates], { error: "expected a string or a list of named templates" })
    .nullish(),
});

const tokenizerJsonSchema = z.looseObject({
  model: z.looseObject({ type: z.string().optional() }),
  added_tokens: z.array(z.looseObject({ id: z.number().int().nonnegative(), content: z.string() })).optional(),
});

const SPECIAL_TOKEN_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
] as const;

export class TextTokenizer {
  /** Highest token id + 1, added tokens included. */
  readonly vocabSize: number;
  readonly bosToken: string | null;
  readonly bosTokenId: number | null;
  readonly eosToken: string | null;
  /** Ids of the tokenizer's end-of-sequence token (empty when it names none). */
  readonly eosTokenIds: number[];
  private readonly chatTemplate: ChatTemplateSource | null;
  private readonly specialTokens: Record<string, string | string[]>;

  constructor(
    private readonly tokenizer: Tokenizer,
    config: z.output<typeof tokenizerConfigSchema>,
    chatTemplate: ChatTemplateSource | null,
    /** Where it was loaded from, for error messages. */
    readonly source: string,
  ) {
    let maxId = -1;
    for (const id of tokenizer.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    this.specialTokens = {};
    for (const key of SPECIAL_TOKEN_KEYS) {
      const token = config[key];
      if (token != null) this.specialTokens[key] = token;
    }
    if (config.additional_special_tokens != null)
      this.specialTokens.additional_special_tokens = config.additional_special_tokens;
    this.bosToken = config.bos_token ?? null;
    this.eosToken = config.eos_token ?? null;
    this.bosTokenId = this.bosToken === null ? null : this.requireId(this.bosToken, "bos_token");
    this.eosTokenIds = this.eosToken === null ? [] : [this.requireId(this.eosToken, "eos_token")];
    this.chatTemplate = chatTemplate;
  }

  private requireId(token: string, field: string): number {
    const id = this.tokenizer.token_to_id(token);
    if (id === undefined) throw new Error(`${this.source}: ${field} "${token}" is not in the vocabulary`);
    return id;
  }

  /** Token ids of `text`; `addSpecialTokens` (default true) applies the tokenizer's post-processor (e.g. BOS). */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /** Text of `ids`; ids outside the vocabulary are dropped (as the underlying library does). */
  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean; cleanUpTokenizationSpaces?: boolean } = {}) {
    // The library rejects an empty list; transformers returns "".
    if (ids.length === 0) return "";
    return this.tokenizer.decode(Array.from(ids), {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: options.cleanUpTokenizationSpaces ?? null,
    });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== null;
  }

  /** The prompt text for `messages`, rendered with the model's chat template. */
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (this.chatTemplate === null)
      throw new Error(`${this.source}: the tokenizer has no chat template (tokenizer_config.json "chat_template")`);
    const template = selectChatTemplate(this.chatTemplate, options, this.source);
    return renderChatTemplate(template, messages, this.specialTokens, options, this.source);
  }
}

/** Newer transformers save the template beside the config: chat_template.jinja or chat_template.json. */
function readChatTemplate(dir: string, fromConfig: ChatTemplateSource | null | undefined): ChatTemplateSource | null {
  if (fromConfig != null) return fromConfig;
  const jinjaPath = path.join(dir, "chat_template.jinja");
  if (fs.existsSync(jinjaPath)) return readTextFile(jinjaPath);
  const jsonPath = path.join(dir, "chat_template.json");
  if (fs.existsSync(jsonPath))
    return readJsonFile(jsonPath, z.object({ chat_template: z.union([z.string(), namedTemplates]) })).chat_template;
  return null;
}

/** The folder holding the tokenizer files, given it or its tokenizer.json. */
export function tokenizerDir(dirOrFile: string): string {
  return fs.existsSync(dirOrFile) && fs.statSync(dirOrFile).isFile() ? path.dirname(dirOrFile) : dirOrFile;
}

/** Loads `tokenizer.json` (required) and `tokenizer_config.json` (optional) from a folder. */
export function loadTokenizer(dirOrFile: string): TextTokenizer {
  const dir = tokenizerDir(dirOrFile);
  const tokenizerPath = path.join(dir, TOKENIZER_FILE);
  const configPath = path.join(dir, TOKENIZER_CONFIG_FILE);
  if (!fs.existsSync(tokenizerPath)) throw new Error(`${dir}: no ${TOKENIZER_FILE}`);
  const tokenizerJson = parseJsonText(readTextFile(tokenizerPath), tokenizerPath);
  validateJson(tokenizerJson, tokenizerJsonSchema, tokenizerPath);
  const configJson = fs.existsSync(configPath) ? parseJsonText(readTextFile(configPath), configPath) : {};
  const config = validateJson(configJson, tokenizerConfigSchema, configPath);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson as object, configJson as object);
  } catch (error) {
    throw new Error(`${tokenizerPath}: cannot build the tokenizer (${(error as Error).message})`);
  }
  return new TextTokenizer(tokenizer, config, readChatTemplate(dir, config.chat_template), dir);
}

/** Every id the tokenizer can produce must index the model's embedding table. */
export function checkTokenizerFitsModel(tokenizer: TextTokenizer, config: ModelConfig, dir: string): void {
  if (tokenizer.vocabSize > config.vocabSize)
    throw new Error(
      `${dir}: tokenizer/vocab size mismatch: the tokenizer has ids up to ${tokenizer.vocabSize - 1} but config.json vocab_size is ${config.vocabSize}`,
    );
}
