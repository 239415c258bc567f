/** Request bodies and query strings of the memory API (/v1/memory/...), validated with zod. */
import { z } from "zod";
import { DOCUMENT_STATES } from "../domains/memory/types.js";

const DOCUMENT_KINDS = ["document", "experience"] as const;

/** Probes per document at most: each is answered at every consolidation's evaluation. */
export const MAX_PROBES = 64;
export const MAX_LIST_LIMIT = 1000;
export const MAX_SEARCH_LIMIT = 50;

const nonBlank = (max: number) =>
  z
    .string()
    .max(max)
    .refine((text) => text.trim() !== "", "must not be blank");

export const newDocumentSchema = z.strictObject({
  // The body limit bounds the text; a title or source is short.
  text: z.string().refine((text) => text.trim() !== "", "must not be blank"),
  title: nonBlank(500).optional(),
  source: z.string().max(2000).nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  probes: z
    .array(z.strictObject({ question: nonBlank(2000), answer: nonBlank(2000) }))
    .max(MAX_PROBES)
    .optional(),
  kind: z.enum(DOCUMENT_KINDS).optional(),
});

/** Query numbers arrive as text. */
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const listDocumentsQuerySchema = z.looseObject({
  state: z.enum(DOCUMENT_STATES).optional(),
  kind: z.enum(DOCUMENT_KINDS).optional(),
  limit: count(1, MAX_LIST_LIMIT).optional(),
  offset: count(0, Number.MAX_SAFE_INTEGER).optional(),
});

export const searchQuerySchema = z.looseObject({
  q: z.string().min(1),
  limit: count(1, MAX_SEARCH_LIMIT).optional(),
  /** Which documents to search (default: both retrievable states). */
  state: z.enum(["pending", "consolidated"]).optional(),
});

export const listQuerySchema = z.looseObject({ limit: count(1, MAX_LIST_LIMIT).optional() });

export const consolidateBodySchema = z.strictObject({ rebuild: z.boolean().optional() }).optional();

export const activateBodySchema = z.strictObject({ force: z.boolean().optional() }).optional();

/** Consolidation and version ids in the path. */
export const numericIdSchema = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
