/**
 * The memory store's schema, versioned in code. `PRAGMA user_version` holds the last migration applied; opening
 * applies the missing ones, each in its own immediate transaction (so two processes opening a fresh file at once
 * do not both migrate it), and refuses a file from a newer seal rather than guess at its tables.
 */
import type Database from "better-sqlite3";
import { MemoryStoreOpenError } from "./errors.js";

interface Migration {
  version: number;
  sql: string;
}

/**
 * Documents keep an INTEGER PRIMARY KEY (`seq`) besides their text id because the FTS5 index is an external-content
 * table keyed by rowid: a table without one may have its rowids renumbered by VACUUM, which would scramble it.
 */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE documents (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('document', 'experience')),
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        source TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL CHECK (state IN ('pending', 'consolidated', 'forgotten')),
        created_at TEXT NOT NULL,
        consolidated_in INTEGER REFERENCES versions(id),
        forgotten_at TEXT
      );
      CREATE INDEX documents_state ON documents(state, seq);

      CREATE TABLE probes (
        document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('given', 'generated')),
        PRIMARY KEY (document_id, ordinal)
      );

      CREATE VIRTUAL TABLE documents_fts USING fts5(
        title, text, content = 'documents', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
        INSERT INTO documents_fts(rowid, title, text) VALUES (new.seq, new.title, new.text);
      END;
      CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text) VALUES ('delete', old.seq, old.title, old.text);
      END;
      CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, text ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text) VALUES ('delete', old.seq, old.title, old.text);
        INSERT INTO documents_fts(rowid, title, text) VALUES (new.seq, new.title, new.text);
      END;

      CREATE TABLE versions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        consolidation_id INTEGER REFERENCES consolidations(id),
        parent_id INTEGER REFERENCES versions(id),
        adapter_path TEXT,
        status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'rejected')),
        reason TEXT,
        created_at TEXT NOT NULL,
        activated_at TEXT
      );
      -- At most one active version, whatever the connection.
      CREATE UNIQUE INDEX versions_one_active ON versions(status) WHERE status = 'active';

      CREATE TABLE version_documents (
        version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        document_id TEXT NOT NULL REFERENCES documents(id),
        PRIMARY KEY (version_id, document_id)
      );
      CREATE INDEX version_documents_document ON version_documents(document_id);

      CREATE TABLE consolidations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule', 'resume')),
        state TEXT NOT NULL CHECK (state IN ('running', 'promoted', 'rejected', 'failed', 'skipped')),
        phase TEXT NOT NULL,
        document_ids TEXT NOT NULL,
        parent_version_id INTEGER REFERENCES versions(id),
        mode TEXT NOT NULL CHECK (mode IN ('incremental', 'rebuild')),
        settings TEXT NOT NULL,
        version_id INTEGER REFERENCES versions(id),
        report TEXT,
        error TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT
      );
      -- At most one running consolidation: the server's and the worker's connections both obey it.
      CREATE UNIQUE INDEX consolidations_one_running ON consolidations(state) WHERE state = 'running';

      CREATE TABLE self_edits (
        consolidation_id INTEGER NOT NULL REFERENCES consolidations(id) ON DELETE CASCADE,
        document_id TEXT NOT NULL REFERENCES documents(id),
        ordinal INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (consolidation_id, document_id, ordinal)
      );
      CREATE INDEX self_edits_document ON self_edits(document_id);

      CREATE TABLE evaluations (
        id INTEGER PRIMARY KEY,
        version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        document_id TEXT NOT NULL REFERENCES documents(id),
        grp TEXT NOT NULL CHECK (grp IN ('new', 'earlier')),
        phase TEXT NOT NULL CHECK (phase IN ('before', 'after')),
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        prediction TEXT NOT NULL,
        correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
        -- Saving an evaluation again (a resumed job) replaces it instead of counting it twice.
        UNIQUE (version_id, document_id, phase, question)
      );
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

function userVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** Brings `db` (the file `file`) up to SCHEMA_VERSION; returns the migrations applied. */
export function migrate(db: Database.Database, file: string, migrations: Migration[] = MIGRATIONS): number[] {
  const latest = migrations[migrations.length - 1].version;
  const applied: number[] = [];
  for (const migration of migrations) {
    db.transaction(() => {
      // Read inside the transaction: another process may have migrated the file since we looked.
      const current = userVersion(db);
      if (current > latest) {
        throw new MemoryStoreOpenError(
          file,
          `its schema is version ${current}, newer than this seal's ${latest}: upgrade seal to use it`,
        );
      }
      if (current >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
      applied.push(migration.version);
    }).immediate();
  }
  return applied;
}
