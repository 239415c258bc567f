/**
 * Renders a model's Jinja chat template with the variables transformers' `apply_chat_template` supplies
 * (messages, tools, add_generation_prompt, the special tokens, raise_exception, strftime_now), so prompts match
 * what the model was trained on.
 */
import { Environment, Interpreter, Template } from "@huggingface/jinja";

export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  /** Append the header that opens the assistant's turn. */
  addGenerationPrompt?: boolean;
  /** Tool (function) JSON schemas, for templates that support them. */
  tools?: unknown[];
  /** Extra template variables (e.g. Qwen3's `enable_thinking`); they override the defaults. */
  extra?: Record<string, unknown>;
  /** Pick a named template when tokenizer_config.json holds a list of them. */
  templateName?: string;
}

export type ChatTemplateSource = string | Array<{ name: string; template: string }>;

/**
 * Chooses the template as transformers does: a single string is used as is; from a named list, an explicit name,
 * else "tool_use" when tools are given and it exists, else "default".
 */
export function selectChatTemplate(
  source: ChatTemplateSource,
  options: { tools?: unknown[]; templateName?: string },
  where: string,
): string {
  if (typeof source === "string") {
    if (options.templateName !== undefined && options.templateName !== "default")
      throw new Error(`${where}: has a single chat template, not one named "${options.templateName}"`);
    return source;
  }
  const byName = new Map(source.map((entry) => [entry.name, entry.template]));
  const wanted =
    options.templateName ?? (options.tools !== undefined && byName.has("tool_use") ? "tool_use" : "default");
  const template = byName.get(wanted);
  if (template === undefined)
    throw new Error(`${where}: no chat template named "${wanted}" (available: ${[...byName.keys()].join(", ")})`);
  return template;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Python's strftime in the C locale (English names), for the directives chat templates use. */
export function strftime(date: Date, format: string): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  const hour12 = date.getHours() % 12 === 0 ? 12 : date.getHours() % 12;
  const startOfYear = new Date(date.getFullYear(), 0, 1);
  const dayOfYear = Math.round((date.getTime() - startOfYear.getTime()) / 86_400_000) + 1;
  const directives: Record<string, () => string> = {
    a: () => DAYS[date.getDay()].slice(0, 3),
    A: () => DAYS[date.getDay()],
    b: () => MONTHS[date.getMonth()].slice(0, 3),
    B: () => MONTHS[date.getMonth()],
    d: () => pad(date.getDate()),
    H: () => pad(date.getHours()),
    I: () => pad(hour12),
    j: () => pad(dayOfYear, 3),
    m: () => pad(date.getMonth() + 1),
    M: () => pad(date.getMinutes()),
    p: () => (date.getHours() < 12 ? "AM" : "PM"),
    S: () => pad(date.getSeconds()),
    y: () => pad(date.getFullYear() % 100),
    Y: () => String(date.getFullYear()),
    "%": () => "%",
  };
  return format.replace(/%(.)/g, (whole, code: string) => directives[code]?.() ?? whole);
}

const compiled = new Map<string, Template>();

function compile(template: string, where: string): Template {
  let result = compiled.get(template);
  if (result === undefined) {
    try {
      result = new Template(template);
    } catch (error) {
      throw new Error(`${where}: chat template does not parse (${(error as Error).message})`);
    }
    compiled.set(template, result);
  }
  return result;
}

/** Python's range(), which templates use for loops over indices. */
function range(start: number, stop?: number, step = 1): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new Error("range() step must not be zero");
  const result: number[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) result.push(i);
  return result;
}

/**
 * Renders `template` for `messages`. `specialTokens` are the tokenizer's special-token strings (bos_token,
 * eos_token, …) that transformers exposes as template variables.
 *
 * The scope is built here rather than by Template.render so that raise_exception and strftime_now are ours:
 * errors that name the tokenizer, and English (C-locale) dates whatever the machine's locale.
 */
export function renderChatTemplate(
  template: string,
  messages: ChatMessage[],
  specialTokens: Record<string, string | string[]>,
  options: ChatTemplateOptions,
  where: string,
): string {
  const variables: Record<string, unknown> = {
    true: true,
    false: false,
    none: null,
    True: true,
    False: false,
    None: null,
    range,
    raise_exception: (message: unknown) => {
      throw new Error(`${where}: chat template raised: ${String(message)}`);
    },
    strftime_now: (format: string) => strftime(new Date(), format),
    ...specialTokens,
    messages,
    // transformers always passes these two, as None when absent (`tools is defined` holds).
    tools: options.tools ?? null,
    documents: null,
    add_generation_prompt: options.addGenerationPrompt ?? false,
    ...options.extra,
  };
  const parsed = compile(template, where).parsed;
  try {
    const environment = new Environment();
    for (const [name, value] of Object.entries(variables)) environment.set(name, value);
    const result = new Interpreter(environment).run(parsed);
    return String(result.value);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.startsWith(where) ? message : `${where}: chat template failed (${message})`);
  }
}
