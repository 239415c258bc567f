/**
 * Adapter versions, their documents, activation (rollback / roll forward) and the probe evaluations of each.
 *
 * One rule ties document states to versions, applied in the transaction that changes the active version: a
 * document that is not forgotten is "consolidated" exactly when it is in the active version's `documentIds`, else
 * "pending" (retrieval covers it again; the next consolidation takes it). So a version's `documentIds` must list
 * every document whose knowledge its weights hold (the parent's, less forgotten ones, plus the new ones), and
 * going back to the base model is activating a version with `adapterPath` null and no documents: create one with
 * `createVersion({adapterPath: null, documentIds: [], status: "active", ...})`, or activate such a row made before.
 * A consolidated document's `consolidatedIn` is the earliest version of the active lineage (the active version,
 * its parent, and so on) that holds it; a pending one's is null.
 */
import type Database from "better-sqlite3";
import { crashPoint } from "../../io/crash-point.js";
import { MemoryInputError, MemoryNotFoundError, VersionRejectedError } from "./errors.js";
import { type EvaluationRow, evaluationFromRow, type VersionRow, versionFromRow } from "./rows.js";
import { now, statement } from "./statements.js";
import type { AdapterVersion, MemoryStoreApi, ProbeEvaluation } from "./types.js";

export type NewVersion = Parameters<MemoryStoreApi["createVersion"]>[0];

function documentIdsOf(db: Database.Database, versionId: number): string[] {
  const rows = statement(db, "SELECT document_id FROM version_documents WHERE version_id = ? ORDER BY ordinal").all(
    versionId,
  ) as Array<{ document_id: string }>;
  return rows.map((row) => row.document_id);
}

export function getVersion(db: Database.Database, id: number): AdapterVersion | null {
  const row = statement(db, "SELECT * FROM versions WHERE id = ?").get(id) as VersionRow | undefined;
  return row === undefined ? null : versionFromRow(row, documentIdsOf(db, row.id));
}

/** Newest first. */
export function listVersions(db: Database.Database): AdapterVersion[] {
  const rows = statement(db, "SELECT * FROM versions ORDER BY id DESC").all() as VersionRow[];
  return rows.map((row) => versionFromRow(row, documentIdsOf(db, row.id)));
}

/** The active version; null: none was ever activated, the base model serves. */
export function activeVersion(db: Database.Database): AdapterVersion | null {
  const row = statement(db, "SELECT * FROM versions WHERE status = 'active'").get() as VersionRow | undefined;
  return row === undefined ? null : versionFromRow(row, documentIdsOf(db, row.id));
}

/** Makes `id` the active version and document states follow it (the rule above). Inside a transaction. */
function makeActive(db: Database.Database, id: number): void {
  statement(db, "UPDATE versions SET status = 'inactive' WHERE status = 'active' AND id != ?").run(id);
  statement(db, "UPDATE versions SET status = 'active', activated_at = ? WHERE id = ?").run(now(), id);
  statement(
    db,
    `UPDATE documents SET state = 'pending', consolidated_in = NULL
     WHERE state = 'consolidated' AND id NOT IN (SELECT document_id FROM version_documents WHERE version_id = ?)`,
  ).run(id);
  statement(
    db,
    `UPDATE documents SET state = 'consolidated'
     WHERE state = 'pending' AND id IN (SELECT document_id FROM version_documents WHERE version_id = ?)`,
  ).run(id);
  // consolidatedIn: the earliest version of the lineage (this one, its parent, ...) that holds the document.
  statement(
    db,
    `WITH RECURSIVE lineage(id, depth) AS (
       SELECT @id, 0
       UNION ALL
       SELECT v.parent_id, l.depth + 1 FROM versions v JOIN lineage l ON v.id = l.id WHERE v.parent_id IS NOT NULL
     )
     UPDATE documents SET consolidated_in = (
       SELECT vd.version_id FROM version_documents vd JOIN lineage l ON l.id = vd.version_id
       WHERE vd.document_id = documents.id ORDER BY l.depth DESC LIMIT 1
     )
     WHERE state = 'consolidated' AND id IN (SELECT document_id FROM version_documents WHERE version_id = @id)`,
  ).run({ id });
}

/**
 * Records a version. When its status is "active", the same transaction deactivates the previous one and brings
 * the documents' states in line with it: a kill at any point leaves either all of it or none (crash point
 * `store:create-version`, just before the commit).
 */
export function createVersion(db: Database.Database, input: NewVersion): AdapterVersion {
  return db
    .transaction(() => {
      const exists = statement(db, "SELECT 1 FROM documents WHERE id = ?");
      input.documentIds.forEach((documentId, i) => {
        if (exists.get(documentId) === undefined) {
          throw new MemoryInputError(`documentIds[${i}]`, `no document ${documentId}`);
        }
      });
      if (input.parentId !== null && getVersion(db, input.parentId) === null) {
        throw new MemoryNotFoundError("version", input.parentId);
      }
      const result = statement(
        db,
        `INSERT INTO versions (consolidation_id, parent_id, adapter_path, status, reason, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        input.consolidationId,
        input.parentId,
        input.adapterPath,
        input.status === "active" ? "inactive" : "rejected",
        input.reason,
        now(),
      );
      const id = Number(result.lastInsertRowid);
      const insert = statement(db, "INSERT INTO version_documents (version_id, ordinal, document_id) VALUES (?, ?, ?)");
      // A document listed twice (one forgotten, added again and consolidated anew) is held once.
      [...new Set(input.documentIds)].forEach((documentId, ordinal) => {
        insert.run(id, ordinal, documentId);
      });
      if (input.consolidationId !== null) {
        statement(db, "UPDATE consolidations SET version_id = ? WHERE id = ?").run(id, input.consolidationId);
      }
      if (input.status === "active") makeActive(db, id);
      crashPoint("store", "create-version");
      return getVersion(db, id)!;
    })
    .immediate();
}

/** Rollback / roll forward: `id` becomes the active version (a rejected one only with `force`). */
export function activateVersion(db: Database.Database, id: number, options: { force?: boolean } = {}): AdapterVersion {
  return db
    .transaction(() => {
      const version = getVersion(db, id);
      if (version === null) throw new MemoryNotFoundError("version", id);
      if (version.status === "rejected" && options.force !== true) throw new VersionRejectedError(id, version.reason);
      makeActive(db, id);
      return getVersion(db, id)!;
    })
    .immediate();
}

/** Saves evaluations; one saved again (same version, document, phase and question) replaces the earlier row. */
export function saveEvaluations(db: Database.Database, rows: ProbeEvaluation[]): void {
  const upsert = statement(
    db,
    `INSERT INTO evaluations (version_id, document_id, grp, phase, question, answer, prediction, correct)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (version_id, document_id, phase, question) DO UPDATE SET
       grp = excluded.grp, answer = excluded.answer, prediction = excluded.prediction, correct = excluded.correct`,
  );
  db.transaction(() => {
    for (const row of rows) {
      upsert.run(
        row.versionId,
        row.documentId,
        row.group,
        row.phase,
        row.question,
        row.answer,
        row.prediction,
        row.correct ? 1 : 0,
      );
    }
  }).immediate();
}

export function evaluationsOf(db: Database.Database, versionId: number): ProbeEvaluation[] {
  const rows = statement(db, "SELECT * FROM evaluations WHERE version_id = ? ORDER BY id").all(
    versionId,
  ) as EvaluationRow[];
  return rows.map(evaluationFromRow);
}
