/**
 * Knowledge-incorporation prompts (reference-implementation.md §1.2, §1.5). All are raw base-model prompts
 * (no chat template). The self-edit templates reproduce byte-for-byte the `prompt` fields stored in the
 * reference's synthetic files.
 *
 * Template syntax (built-in and user template files): `{title}` and `{context}` are replaced by the passage's
 * title and context; `{{` and `}}` stand for literal braces; any other `{name}` or a lone brace is an error.
 * Substitution is a single pass, so braces inside a title or context are never re-read as placeholders.
 */
import { readTextFile } from "../../io/text-file.js";

export const SELF_EDIT_PROMPT_STYLES = [
  "implications",
  "implications-long",
  "implications-very-long",
  "rewrite",
  "self-qa",
] as const;
export type SelfEditPromptStyle = (typeof SELF_EDIT_PROMPT_STYLES)[number];

export const TEMPLATE_PLACEHOLDERS = ["title", "context"] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

function passageTemplate(instruction: string, header: string): string {
  return `${instruction}\n\nPassage:\n{title}\n{context}\n\n${header}`;
}

/** Template text of each built-in self-edit prompt style, in this module's placeholder syntax. */
export const SELF_EDIT_TEMPLATES: Readonly<Record<SelfEditPromptStyle, string>> = {
  implications: passageTemplate(
    "Let's read the following passage and produce a list of implications derived directly or indirectly from the content.",
    "Implications:\n",
  ),
  "implications-long": passageTemplate(
    "Let's read the following passage and produce a long list of implications derived directly or indirectly from the content.",
    "Implications:\n",
  ),
  "implications-very-long": passageTemplate(
    "Let's read the following passage and produce a very long list of implications derived directly or indirectly from the content.",
    "Implications:\n",
  ),
  rewrite: passageTemplate(
    "Let's read the following passage and rewrite it in a few different ways, each one separated by a newline.",
    "Rewritten passages:\n",
  ),
  "self-qa": passageTemplate(
    "Let's read the following passage and rewrite it in a question-answer format.",
    "Question 1: ",
  ),
};

/**
 * The tag the reference puts in file names for each style (`base_val_prompt-long.json`, ...);
 * the default `implications` style has none.
 */
export const SELF_EDIT_STYLE_FILE_TAGS: Readonly<Record<SelfEditPromptStyle, string>> = {
  implications: "",
  "implications-long": "prompt-long",
  "implications-very-long": "prompt-very-long",
  rewrite: "prompt-rewrite",
  "self-qa": "prompt-self-qa",
};

export function isSelfEditPromptStyle(name: string): name is SelfEditPromptStyle {
  return (SELF_EDIT_PROMPT_STYLES as readonly string[]).includes(name);
}

export type TemplatePart = { text: string } | { placeholder: TemplatePlaceholder };

/** A parsed prompt template: literal text and placeholders, in order. */
export interface PromptTemplate {
  /** Where the template came from (a style name or a file path), used in error messages. */
  readonly origin: string;
  readonly parts: readonly TemplatePart[];
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `line ${line}, column ${column}`;
}

/**
 * Parses template text. Requires `{context}` at least once (a self-edit prompt without the passage is
 * meaningless); `{title}` is optional. Errors name `origin` and the line/column of the offending brace.
 */
export function parsePromptTemplate(text: string, origin: string): PromptTemplate {
  const parts: TemplatePart[] = [];
  let literal = "";
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === "{" && text[index + 1] === "{") {
      literal += "{";
      index += 2;
    } else if (char === "}" && text[index + 1] === "}") {
      literal += "}";
      index += 2;
    } else if (char === "{") {
      const close = text.indexOf("}", index + 1);
      const name = close < 0 ? "" : text.slice(index + 1, close);
      if (close < 0 || /[{\n]/.test(name)) {
        throw new Error(`${origin}: unmatched "{" at ${lineAndColumn(text, index)} (write "{{" for a literal brace)`);
      }
      if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
        throw new Error(
          `${origin}: unknown placeholder "{${name}}" at ${lineAndColumn(text, index)}; ` +
            `expected one of ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(", ")} ("{{" / "}}" for literal braces)`,
        );
      }
      if (literal !== "") parts.push({ text: literal });
      literal = "";
      parts.push({ placeholder: name as TemplatePlaceholder });
      index = close + 1;
    } else if (char === "}") {
      throw new Error(`${origin}: unmatched "}" at ${lineAndColumn(text, index)} (write "}}" for a literal brace)`);
    } else {
      literal += char;
      index += 1;
    }
  }
  if (literal !== "") parts.push({ text: literal });
  if (!parts.some((part) => "placeholder" in part && part.placeholder === "context")) {
    throw new Error(`${origin}: the template has no {context} placeholder`);
  }
  return { origin, parts };
}

/** Substitutes the placeholders (single pass). */
export function renderPromptTemplate(
  template: PromptTemplate,
  values: Readonly<Record<TemplatePlaceholder, string>>,
): string {
  let out = "";
  for (const part of template.parts) out += "text" in part ? part.text : values[part.placeholder];
  return out;
}

const builtInTemplates = new Map<SelfEditPromptStyle, PromptTemplate>();

/** The parsed built-in template of a style. */
export function selfEditTemplate(style: SelfEditPromptStyle): PromptTemplate {
  let template = builtInTemplates.get(style);
  if (template === undefined) {
    template = parsePromptTemplate(SELF_EDIT_TEMPLATES[style], `prompt style "${style}"`);
    builtInTemplates.set(style, template);
  }
  return template;
}

/**
 * Reads a user template file. The text is used verbatim (only a leading UTF-8 byte-order mark is dropped;
 * invalid UTF-8 is refused), so a
 * final newline in the file is part of the prompt.
 */
export function readPromptTemplateFile(path: string): PromptTemplate {
  return parsePromptTemplate(readTextFile(path), path);
}

/** The self-edit generation prompt for a passage, from a built-in style or a parsed (user) template. */
export function buildSelfEditPrompt(
  styleOrTemplate: SelfEditPromptStyle | PromptTemplate,
  title: string,
  context: string,
): string {
  const template = typeof styleOrTemplate === "string" ? selfEditTemplate(styleOrTemplate) : styleOrTemplate;
  return renderPromptTemplate(template, { title, context });
}

/** The closed-book question text (§1.5): the topic prefix grounds it; the passage is not given. */
export function closedBookQuestion(title: string, question: string): string {
  return `Topic: ${title}\n${question}`;
}

/** The base-model answer prompt around a question text (§1.5). */
export function closedBookAnswerPrompt(questionText: string): string {
  return `Let's answer a question directly and concisely.\nQuestion: ${questionText}\nAnswer:\n`;
}

/** The full closed-book QA prompt for one question about a passage with `title`. */
export function closedBookQaPrompt(title: string, question: string): string {
  return closedBookAnswerPrompt(closedBookQuestion(title, question));
}
