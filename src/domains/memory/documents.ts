/**
 * The documents table: adding (idempotent by content hash), reading, listing, forgetting, probes, BM25 search.
 * Functions over a connection; MemoryStore (store.ts) wraps them.
 */
import type Database from "better-sqlite3";
import { checkNewDocument, checkProbes } from "./document-input.js";
import { MemoryInputError, MemoryNotFoundError } from "./errors.js";
import { ftsMatchQuery } from "./fts-query.js";
import { type DocumentRow, documentFromRow, type ProbeRow, probeFromRow } from "./rows.js";
import { now, statement } from "./statements.js";
import {
  DOCUMENT_STATES,
  type DocumentKind,
  type DocumentState,
  type MemoryDocument,
  type NewDocument,
  type Probe,
  type RetrievedDocument,
} from "./types.js";

export interface ListDocumentsOptions {
  state?: DocumentState;
  kind?: DocumentKind;
  /** Default: all. */
  limit?: number;
  offset?: number;
  /** "oldest" (default: the order they were added, the order consolidation takes them) or "newest" first. */
  order?: "oldest" | "newest";
}

function probesOf(db: Database.Database, id: string): Probe[] {
  const rows = statement(db, "SELECT * FROM probes WHERE document_id = ? ORDER BY ordinal").all(id) as ProbeRow[];
  return rows.map(probeFromRow);
}

function withProbes(db: Database.Database, row: DocumentRow): MemoryDocument {
  return documentFromRow(row, probesOf(db, row.id));
}

function writeProbes(db: Database.Database, id: string, probes: Probe[]): void {
  statement(db, "DELETE FROM probes WHERE document_id = ?").run(id);
  const insert = statement(
    db,
    "INSERT INTO probes (document_id, ordinal, question, answer, origin) VALUES (?, ?, ?, ?, ?)",
  );
  probes.forEach((probe, ordinal) => {
    insert.run(id, ordinal, probe.question, probe.answer, probe.origin);
  });
}

function rowById(db: Database.Database, id: string): DocumentRow | undefined {
  return statement(db, "SELECT * FROM documents WHERE id = ?").get(id) as DocumentRow | undefined;
}

export function getDocument(db: Database.Database, id: string): MemoryDocument | null {
  const row = rowById(db, id);
  return row === undefined ? null : withProbes(db, row);
}

/**
 * The same text twice is one document: the second call returns the first's, unchanged, with created = false. A
 * forgotten document added again comes back as new (created = true, state pending, forgottenAt null) with the new
 * call's title, source, metadata, kind and probes: forgetting dropped it, adding it again is a fresh request.
 */
export function addDocument(db: Database.Database, input: NewDocument): { document: MemoryDocument; created: boolean } {
  const doc = checkNewDocument(input);
  return db
    .transaction(() => {
      const existing = rowById(db, doc.id);
      if (existing !== undefined && existing.state !== "forgotten") {
        return { document: withProbes(db, existing), created: false };
      }
      if (existing === undefined) {
        statement(
          db,
          `INSERT INTO documents (id, content_hash, kind, title, text, source, metadata, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
        ).run(doc.id, doc.contentHash, doc.kind, doc.title, doc.text, doc.source, JSON.stringify(doc.metadata), now());
      } else {
        statement(
          db,
          `UPDATE documents SET kind = ?, title = ?, source = ?, metadata = ?, state = 'pending', created_at = ?,
             consolidated_in = NULL, forgotten_at = NULL WHERE id = ?`,
        ).run(doc.kind, doc.title, doc.source, JSON.stringify(doc.metadata), now(), doc.id);
      }
      writeProbes(db, doc.id, doc.probes);
      return { document: getDocument(db, doc.id)!, created: true };
    })
    .immediate();
}

function checkCount(field: string, value: number | undefined, min: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
    throw new MemoryInputError(field, `expected an integer ≥ ${min}, got ${value}`);
  }
}

export function listDocuments(db: Database.Database, options: ListDocumentsOptions = {}): MemoryDocument[] {
  checkCount("limit", options.limit, 0);
  checkCount("offset", options.offset, 0);
  if (options.state !== undefined && !DOCUMENT_STATES.includes(options.state)) {
    throw new MemoryInputError("state", `expected one of ${DOCUMENT_STATES.join(", ")}`);
  }
  const rows = statement(
    db,
    `SELECT * FROM documents WHERE (@state IS NULL OR state = @state) AND (@kind IS NULL OR kind = @kind)
     ORDER BY CASE WHEN @order = 'newest' THEN -seq ELSE seq END LIMIT @limit OFFSET @offset`,
  ).all({
    state: options.state ?? null,
    kind: options.kind ?? null,
    order: options.order ?? "oldest",
    limit: options.limit ?? -1,
    offset: options.offset ?? 0,
  }) as DocumentRow[];
  return rows.map((row) => withProbes(db, row));
}

export function countDocuments(db: Database.Database): Record<DocumentState, number> {
  const counts: Record<DocumentState, number> = { pending: 0, consolidated: 0, forgotten: 0 };
  const rows = statement(db, "SELECT state, COUNT(*) AS n FROM documents GROUP BY state").all() as Array<{
    state: DocumentState;
    n: number;
  }>;
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

/** Forgetting keeps the row (the versions that hold it still name it) but takes it out of retrieval at once. */
export function forgetDocument(db: Database.Database, id: string): MemoryDocument | null {
  return db
    .transaction(() => {
      const row = rowById(db, id);
      if (row === undefined) return null;
      if (row.state !== "forgotten") {
        statement(db, "UPDATE documents SET state = 'forgotten', forgotten_at = ? WHERE id = ?").run(now(), id);
      }
      return getDocument(db, id);
    })
    .immediate();
}

export function setProbes(db: Database.Database, id: string, probes: Probe[]): void {
  const checked = checkProbes(probes);
  db.transaction(() => {
    if (rowById(db, id) === undefined) throw new MemoryNotFoundError("document", id);
    writeProbes(db, id, checked);
  }).immediate();
}

export function search(
  db: Database.Database,
  query: string,
  options: { states: DocumentState[]; limit: number },
): RetrievedDocument[] {
  checkCount("limit", options.limit, 0);
  const states = options.states.filter((state) => state !== "forgotten");
  const match = ftsMatchQuery(query);
  if (match === null || states.length === 0 || options.limit === 0) return [];
  const rows = statement(
    db,
    `SELECT d.*, -bm25(documents_fts) AS score FROM documents_fts JOIN documents d ON d.seq = documents_fts.rowid
     WHERE documents_fts MATCH ? AND d.state IN (SELECT value FROM json_each(?))
     ORDER BY bm25(documents_fts), d.seq LIMIT ?`,
  ).all(match, JSON.stringify(states), options.limit) as Array<DocumentRow & { score: number }>;
  return rows.map((row) => ({ document: withProbes(db, row), score: row.score }));
}
