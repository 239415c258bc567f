/**
 * Validation of what callers hand the store (HTTP bodies pass through here unchanged): a new document and probes.
 * A failure is a MemoryInputError naming the first bad field (`text`, `probes[1].question`).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { MemoryInputError } from "./errors.js";
import type { MemoryDocument, NewDocument, Probe } from "./types.js";

/** A document's text is at most 1 MiB of UTF-8 (the server's default body limit is the same). */
export const MAX_TEXT_BYTES = 1024 * 1024;
const MAX_FIELD_CHARS = 4096;
const MAX_PROBE_CHARS = 16 * 1024;
const MAX_PROBES = 256;
/** A title derived from the text keeps this many words. */
const TITLE_WORDS = 8;

const nonBlank = (max: number) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    .refine((value) => value.trim().length > 0, "must not be empty");

const text = z
  .string()
  .refine((value) => value.trim().length > 0, "must not be empty")
  .refine((value) => Buffer.byteLength(value, "utf8") <= MAX_TEXT_BYTES, `at most ${MAX_TEXT_BYTES} bytes of UTF-8`);

const probe = z.object({ question: nonBlank(MAX_PROBE_CHARS), answer: nonBlank(MAX_PROBE_CHARS) });
const storedProbe = probe.extend({ origin: z.enum(["given", "generated"]) });

const newDocument = z.object({
  text,
  title: nonBlank(MAX_FIELD_CHARS).optional(),
  source: nonBlank(MAX_FIELD_CHARS).nullable().optional(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((value) => JSON.stringify(value).length <= 64 * 1024, "at most 64 KiB as JSON")
    .optional(),
  probes: z.array(probe).max(MAX_PROBES, `at most ${MAX_PROBES}`).optional(),
  kind: z.enum(["document", "experience"]).optional(),
});

/** A new document, checked and completed: derived title, defaults, its content hash and id. */
export type CheckedDocument = Pick<
  MemoryDocument,
  "id" | "contentHash" | "kind" | "title" | "text" | "source" | "metadata" | "probes"
>;

function fieldOf(path: PropertyKey[]): string {
  let field = "";
  for (const key of path)
    field += typeof key === "number" ? `[${key}]` : field === "" ? String(key) : `.${String(key)}`;
  return field === "" ? "document" : field;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = fieldOf(issue.path);
  throw new MemoryInputError(
    prefix === "" ? field : field === "document" ? prefix : `${prefix}${field}`,
    issue.message,
  );
}

/** The idempotency key: the SHA-256 of the text exactly as given. */
export function contentHashOf(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export function documentIdOf(contentHash: string): string {
  return `doc_${contentHash.slice(0, 16)}`;
}

/** The first words of the text, for documents given without title or source. */
function titleFromText(text: string): string {
  const words = text.trim().split(/\s+/);
  const title = words.slice(0, TITLE_WORDS).join(" ");
  return words.length > TITLE_WORDS ? `${title}…` : title;
}

export function checkNewDocument(input: NewDocument): CheckedDocument {
  const checked = parse(newDocument, input, "");
  const contentHash = contentHashOf(checked.text);
  const source = checked.source?.trim() ?? null;
  return {
    id: documentIdOf(contentHash),
    contentHash,
    kind: checked.kind ?? "document",
    title: checked.title?.trim() ?? source ?? titleFromText(checked.text),
    text: checked.text,
    source,
    metadata: checked.metadata ?? {},
    probes: (checked.probes ?? []).map((p) => ({ question: p.question, answer: p.answer, origin: "given" })),
  };
}

export function checkProbes(probes: Probe[]): Probe[] {
  return parse(z.array(storedProbe).max(MAX_PROBES, `at most ${MAX_PROBES}`), probes, "probes");
}
