/**
 * The memory store: one SQLite file (WAL) holding documents, probes, the FTS5 index, consolidations, self-edits,
 * adapter versions and evaluations. Two connections share the file at once (the server's and the consolidation
 * worker's): every write runs in an IMMEDIATE transaction (the write lock is taken up front, so a transaction
 * never fails half-way when upgrading a read lock) and waits up to `busyTimeoutMs` for the other's.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import * as consolidations from "./consolidations.js";
import * as documents from "./documents.js";
import { MemoryStoreOpenError } from "./errors.js";
import { migrate } from "./migrations.js";
import type {
  AdapterVersion,
  Consolidation,
  DocumentState,
  MemoryDocument,
  MemoryStoreApi,
  NewDocument,
  Probe,
  ProbeEvaluation,
  RetrievedDocument,
} from "./types.js";
import * as versions from "./versions.js";

export interface MemoryStoreOptions {
  /** How long a write waits for the other connection's transaction (default 5000 ms). */
  busyTimeoutMs?: number;
}

export class MemoryStore implements MemoryStoreApi {
  constructor(
    private readonly db: Database.Database,
    /** The database file. */
    readonly file: string,
  ) {}

  addDocument(input: NewDocument): { document: MemoryDocument; created: boolean } {
    return documents.addDocument(this.db, input);
  }
  getDocument(id: string): MemoryDocument | null {
    return documents.getDocument(this.db, id);
  }
  /** Oldest first unless `order: "newest"`; all unless `limit`. */
  listDocuments(options?: documents.ListDocumentsOptions): MemoryDocument[] {
    return documents.listDocuments(this.db, options);
  }
  countDocuments(): Record<DocumentState, number> {
    return documents.countDocuments(this.db);
  }
  forgetDocument(id: string): MemoryDocument | null {
    return documents.forgetDocument(this.db, id);
  }
  setProbes(documentId: string, probes: Probe[]): void {
    documents.setProbes(this.db, documentId, probes);
  }
  search(query: string, options: { states: DocumentState[]; limit: number }): RetrievedDocument[] {
    return documents.search(this.db, query, options);
  }

  startConsolidation(input: Parameters<MemoryStoreApi["startConsolidation"]>[0]): Consolidation {
    return consolidations.startConsolidation(this.db, input);
  }
  getConsolidation(id: number): Consolidation | null {
    return consolidations.getConsolidation(this.db, id);
  }
  /** Newest first. */
  listConsolidations(options?: { limit?: number }): Consolidation[] {
    return consolidations.listConsolidations(this.db, options);
  }
  runningConsolidation(): Consolidation | null {
    return consolidations.runningConsolidation(this.db);
  }
  updateConsolidation(id: number, patch: consolidations.ConsolidationPatch): Consolidation {
    return consolidations.updateConsolidation(this.db, id, patch);
  }
  saveSelfEdits(consolidationId: number, documentId: string, selfEdits: string[]): void {
    consolidations.saveSelfEdits(this.db, consolidationId, documentId, selfEdits);
  }
  selfEditsOf(consolidationId: number): Map<string, string[]> {
    return consolidations.selfEditsOf(this.db, consolidationId);
  }
  consolidatedSelfEdits(documentId: string): string[] {
    return consolidations.consolidatedSelfEdits(this.db, documentId);
  }

  createVersion(input: versions.NewVersion): AdapterVersion {
    return versions.createVersion(this.db, input);
  }
  getVersion(id: number): AdapterVersion | null {
    return versions.getVersion(this.db, id);
  }
  /** Newest first. */
  listVersions(): AdapterVersion[] {
    return versions.listVersions(this.db);
  }
  activeVersion(): AdapterVersion | null {
    return versions.activeVersion(this.db);
  }
  activateVersion(id: number, options?: { force?: boolean }): AdapterVersion {
    return versions.activateVersion(this.db, id, options);
  }
  saveEvaluations(rows: ProbeEvaluation[]): void {
    versions.saveEvaluations(this.db, rows);
  }
  evaluationsOf(versionId: number): ProbeEvaluation[] {
    return versions.evaluationsOf(this.db, versionId);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens (creating it and its folder if needed) the store in `file`. A file that is not a sound SQLite database,
 * or one from a newer seal, is a MemoryStoreOpenError naming it.
 */
export function openMemoryStore(file: string, options: MemoryStoreOptions = {}): MemoryStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (error) {
    throw new MemoryStoreOpenError(file, describe(error), { cause: error });
  }
  try {
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new MemoryStoreOpenError(file, `the integrity check failed: ${String(check)}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db, file);
  } catch (error) {
    db.close();
    if (error instanceof MemoryStoreOpenError) throw error;
    throw new MemoryStoreOpenError(file, describe(error), { cause: error });
  }
  return new MemoryStore(db, file);
}
