/** The consolidations table and the self-edits each consolidation wrote. Functions over a connection. */
import type Database from "better-sqlite3";
import { ConsolidationBusyError, MemoryInputError, MemoryNotFoundError } from "./errors.js";
import { type ConsolidationRow, consolidationFromRow } from "./rows.js";
import { now, statement } from "./statements.js";
import type { Consolidation, ConsolidationState, MemoryStoreApi } from "./types.js";

export type ConsolidationPatch = Parameters<MemoryStoreApi["updateConsolidation"]>[1];
const FINAL_STATES: ConsolidationState[] = ["promoted", "rejected", "failed", "skipped"];

export function getConsolidation(db: Database.Database, id: number): Consolidation | null {
  const row = statement(db, "SELECT * FROM consolidations WHERE id = ?").get(id) as ConsolidationRow | undefined;
  return row === undefined ? null : consolidationFromRow(row);
}

export function listConsolidations(db: Database.Database, options: { limit?: number } = {}): Consolidation[] {
  const rows = statement(db, "SELECT * FROM consolidations ORDER BY id DESC LIMIT ?").all(
    options.limit ?? -1,
  ) as ConsolidationRow[];
  return rows.map(consolidationFromRow);
}

export function runningConsolidation(db: Database.Database): Consolidation | null {
  const row = statement(db, "SELECT * FROM consolidations WHERE state = 'running'").get() as
    | ConsolidationRow
    | undefined;
  return row === undefined ? null : consolidationFromRow(row);
}

function checkDocumentsExist(db: Database.Database, ids: string[], field: string): void {
  const exists = statement(db, "SELECT 1 FROM documents WHERE id = ?");
  ids.forEach((id, i) => {
    if (exists.get(id) === undefined) throw new MemoryInputError(`${field}[${i}]`, `no document ${id}`);
  });
}

/** Starts one (state running, phase self-edits); a ConsolidationBusyError when one already runs. */
export function startConsolidation(
  db: Database.Database,
  input: Parameters<MemoryStoreApi["startConsolidation"]>[0],
): Consolidation {
  return db
    .transaction(() => {
      const running = runningConsolidation(db);
      if (running !== null) throw new ConsolidationBusyError(running.id);
      checkDocumentsExist(db, input.documentIds, "documentIds");
      const result = statement(
        db,
        `INSERT INTO consolidations (trigger, state, phase, document_ids, parent_version_id, mode, settings, started_at)
         VALUES (?, 'running', 'self-edits', ?, ?, ?, ?, ?)`,
      ).run(
        input.trigger,
        JSON.stringify(input.documentIds),
        input.parentVersionId,
        input.mode,
        JSON.stringify(input.settings),
        now(),
      );
      return getConsolidation(db, Number(result.lastInsertRowid))!;
    })
    .immediate();
}

/** Applies `patch`; a final state without `finishedAt` is stamped now. */
export function updateConsolidation(db: Database.Database, id: number, patch: ConsolidationPatch): Consolidation {
  return db
    .transaction(() => {
      const current = getConsolidation(db, id);
      if (current === null) throw new MemoryNotFoundError("consolidation", id);
      // A key present with the value undefined leaves the field as it is (as if absent).
      const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
      const next: Consolidation = { ...current, ...defined };
      if (patch.state !== undefined && FINAL_STATES.includes(patch.state) && patch.finishedAt === undefined) {
        next.finishedAt = current.finishedAt ?? now();
      }
      statement(
        db,
        `UPDATE consolidations SET state = ?, phase = ?, version_id = ?, report = ?, error = ?, finished_at = ?
         WHERE id = ?`,
      ).run(
        next.state,
        next.phase,
        next.versionId,
        next.report === null ? null : JSON.stringify(next.report),
        next.error,
        next.finishedAt,
        id,
      );
      return getConsolidation(db, id)!;
    })
    .immediate();
}

export function saveSelfEdits(db: Database.Database, consolidationId: number, documentId: string, texts: string[]) {
  db.transaction(() => {
    if (getConsolidation(db, consolidationId) === null) throw new MemoryNotFoundError("consolidation", consolidationId);
    if (statement(db, "SELECT 1 FROM documents WHERE id = ?").get(documentId) === undefined) {
      throw new MemoryNotFoundError("document", documentId);
    }
    statement(db, "DELETE FROM self_edits WHERE consolidation_id = ? AND document_id = ?").run(
      consolidationId,
      documentId,
    );
    const insert = statement(
      db,
      "INSERT INTO self_edits (consolidation_id, document_id, ordinal, text) VALUES (?, ?, ?, ?)",
    );
    texts.forEach((text, ordinal) => {
      insert.run(consolidationId, documentId, ordinal, text);
    });
  }).immediate();
}

type SelfEditRow = { document_id: string; text: string };

function groupByDocument(rows: SelfEditRow[]): Map<string, string[]> {
  const byDocument = new Map<string, string[]>();
  for (const row of rows) {
    const texts = byDocument.get(row.document_id);
    if (texts === undefined) byDocument.set(row.document_id, [row.text]);
    else texts.push(row.text);
  }
  return byDocument;
}

/** Document id → its self-edits, in the order saved (documents in the order last saved). */
export function selfEditsOf(db: Database.Database, consolidationId: number): Map<string, string[]> {
  const rows = statement(db, "SELECT document_id, text FROM self_edits WHERE consolidation_id = ? ORDER BY rowid").all(
    consolidationId,
  ) as SelfEditRow[];
  return groupByDocument(rows);
}

/**
 * The self-edits a document was consolidated with: those of the consolidation that produced the version named by
 * its consolidatedIn, else (a document that went back to pending, or a version made without a consolidation) of
 * the earliest promoted consolidation that wrote some for it; [] when none did.
 */
export function consolidatedSelfEdits(db: Database.Database, documentId: string): string[] {
  const rows = statement(
    db,
    `WITH chosen AS (
       SELECT c.id FROM consolidations c
       JOIN self_edits s ON s.consolidation_id = c.id AND s.document_id = @documentId
       LEFT JOIN documents d ON d.id = @documentId
       WHERE c.state = 'promoted'
       ORDER BY (c.version_id IS d.consolidated_in AND d.consolidated_in IS NOT NULL) DESC, c.id
       LIMIT 1
     )
     SELECT document_id, text FROM self_edits WHERE document_id = @documentId AND consolidation_id = (SELECT id FROM chosen)
     ORDER BY ordinal`,
  ).all({ documentId }) as SelfEditRow[];
  return rows.map((row) => row.text);
}
