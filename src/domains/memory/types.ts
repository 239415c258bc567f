/**
 * The memory domain's records and its store's interface: documents an application feeds the model, the
 * self-edits written for them, consolidations (the SEAL step that bakes pending documents into a LoRA adapter)
 * and the adapter versions they produce. `MemoryStore` (store.ts, SQLite) implements `MemoryStoreApi`; the
 * consolidation job and the HTTP routes code against this interface only.
 */

/** pending: retrievable, not yet in the weights; consolidated: in the active lineage's weights; forgotten: deleted. */
export const DOCUMENT_STATES = ["pending", "consolidated", "forgotten"] as const;
export type DocumentState = (typeof DOCUMENT_STATES)[number];

/** document: fed through POST /v1/memory/documents; experience: a chat exchange stored on the client's request. */
export type DocumentKind = "document" | "experience";

/** A closed-book question about a document and its gold answer; `generated` when the model wrote it. */
export interface Probe {
  question: string;
  answer: string;
  origin: "given" | "generated";
}

export interface MemoryDocument {
  /** "doc_" + the first 16 hex digits of the SHA-256 of the text (the idempotency key). */
  id: string;
  /** Full SHA-256 hex of the text. */
  contentHash: string;
  kind: DocumentKind;
  /** Given, or derived: the source, else the text's first words. Used as the knowledge prompts' title. */
  title: string;
  text: string;
  source: string | null;
  metadata: Record<string, unknown>;
  probes: Probe[];
  state: DocumentState;
  /** ISO 8601 times. */
  createdAt: string;
  /** The earliest version of the active lineage (active version, its parent, ...) holding it; null unless consolidated. */
  consolidatedIn: number | null;
  forgottenAt: string | null;
}

export interface NewDocument {
  text: string;
  title?: string;
  source?: string | null;
  metadata?: Record<string, unknown>;
  probes?: Array<{ question: string; answer: string }>;
  kind?: DocumentKind;
}

export interface RetrievedDocument {
  document: MemoryDocument;
  /** BM25 relevance from FTS5 (higher is more relevant: the negated bm25()). */
  score: number;
}

export type ConsolidationTrigger = "manual" | "schedule" | "resume";
/** running: started (or interrupted: a restart resumes it); the rest are final. */
export type ConsolidationState = "running" | "promoted" | "rejected" | "failed" | "skipped";
/** Where a running consolidation is; a resumed one restarts at the first phase not finished. */
export type ConsolidationPhase = "self-edits" | "probes" | "training" | "evaluation" | "gate" | "done";

export interface Consolidation {
  id: number;
  trigger: ConsolidationTrigger;
  state: ConsolidationState;
  phase: ConsolidationPhase;
  /** The pending documents it consolidates (fixed when it starts). */
  documentIds: string[];
  /** The version it started from (null: the base model). */
  parentVersionId: number | null;
  /** "incremental": from the parent's adapter; "rebuild": a fresh adapter (after a forget, or when asked). */
  mode: "incremental" | "rebuild";
  /** Settings as JSON (self-edit sampling, LoRA, training, replay, gate). */
  settings: Record<string, unknown>;
  /** The version it produced (promoted or rejected), when it got that far. */
  versionId: number | null;
  /** Accuracies, forgetting, losses, timings, gate decision: JSON written by the job. */
  report: Record<string, unknown> | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export type VersionStatus = "active" | "inactive" | "rejected";

export interface AdapterVersion {
  id: number;
  consolidationId: number | null;
  parentId: number | null;
  /** Folder of the PEFT adapter, relative to the data folder ("adapters/v3"); null = the base model alone. */
  adapterPath: string | null;
  status: VersionStatus;
  /** Why it was rejected, or a note. */
  reason: string | null;
  /** Documents whose knowledge it holds. */
  documentIds: string[];
  createdAt: string;
  activatedAt: string | null;
}

/** One probe answered closed-book by a version (phase "before": the parent; "after": this version). */
export interface ProbeEvaluation {
  versionId: number;
  documentId: string;
  /** new: a document of this consolidation; earlier: one consolidated before (forgetting). */
  group: "new" | "earlier";
  phase: "before" | "after";
  question: string;
  answer: string;
  prediction: string;
  correct: boolean;
}

export interface MemoryStoreApi {
  /**
   * Idempotent by content hash: the same text returns the existing document, unchanged, with created = false. A
   * forgotten document's text added again comes back pending (created = true, the new call's fields). Invalid
   * input (empty or over 1 MiB text, an empty probe question, ...) is a MemoryInputError naming the field.
   */
  addDocument(input: NewDocument): { document: MemoryDocument; created: boolean };
  getDocument(id: string): MemoryDocument | null;
  /** Oldest first (the order consolidation takes them) unless `order: "newest"`; all of them unless `limit`. */
  listDocuments(options?: {
    state?: DocumentState;
    kind?: DocumentKind;
    limit?: number;
    offset?: number;
    order?: "oldest" | "newest";
  }): MemoryDocument[];
  countDocuments(): Record<DocumentState, number>;
  /**
   * Out of retrieval at once; returns the document (state "forgotten") or null when unknown. The row stays (the
   * versions that hold it still name it); a rebuild leaves it out.
   */
  forgetDocument(id: string): MemoryDocument | null;
  /** Replaces a document's probes (MemoryNotFoundError for an unknown document). */
  setProbes(documentId: string, probes: Probe[]): void;
  /**
   * BM25 over title and text of non-forgotten documents in `states`, best first. Any user text is a safe query
   * (its words are OR-ed; text without a word finds nothing).
   */
  search(query: string, options: { states: DocumentState[]; limit: number }): RetrievedDocument[];

  /** Starts one (state running, phase self-edits); a ConsolidationBusyError when one already runs. */
  startConsolidation(input: {
    trigger: ConsolidationTrigger;
    documentIds: string[];
    parentVersionId: number | null;
    mode: "incremental" | "rebuild";
    settings: Record<string, unknown>;
  }): Consolidation;
  getConsolidation(id: number): Consolidation | null;
  /** Newest first. */
  listConsolidations(options?: { limit?: number }): Consolidation[];
  /** The consolidation left running by a crash, if any (at most one runs at a time). */
  runningConsolidation(): Consolidation | null;
  /** A final state without `finishedAt` is stamped now. */
  updateConsolidation(
    id: number,
    patch: Partial<Pick<Consolidation, "state" | "phase" | "versionId" | "report" | "error" | "finishedAt">>,
  ): Consolidation;

  /** Replaces the self-edits written for a document in a consolidation. */
  saveSelfEdits(consolidationId: number, documentId: string, selfEdits: string[]): void;
  selfEditsOf(consolidationId: number): Map<string, string[]>;
  /** The self-edits a document was consolidated with (those of the consolidation that first promoted it). */
  consolidatedSelfEdits(documentId: string): string[];

  /**
   * Records a version (and sets its consolidation's versionId). With status "active", in the same transaction: the
   * previous active one becomes inactive, this one active, and document states follow the active version: a
   * document not forgotten is consolidated exactly when it is in the active version's `documentIds`, else pending.
   * So `documentIds` lists EVERY document the adapter's weights hold (the parent's, less forgotten ones, plus the
   * new ones). To go back to the base model, create (or later re-activate) a version with `adapterPath: null` and
   * no documents.
   */
  createVersion(input: {
    consolidationId: number | null;
    parentId: number | null;
    adapterPath: string | null;
    status: "active" | "rejected";
    reason: string | null;
    documentIds: string[];
  }): AdapterVersion;
  getVersion(id: number): AdapterVersion | null;
  /** Newest first. */
  listVersions(): AdapterVersion[];
  /** null: no version was ever activated, the base model serves. */
  activeVersion(): AdapterVersion | null;
  /**
   * Rollback / roll forward to any non-rejected version (rejected ones only with `force`, else a
   * VersionRejectedError); document states follow it as in createVersion (rolled-back documents become pending).
   */
  activateVersion(id: number, options?: { force?: boolean }): AdapterVersion;
  /** Saving an evaluation again (same version, document, phase, question) replaces it. */
  saveEvaluations(rows: ProbeEvaluation[]): void;
  evaluationsOf(versionId: number): ProbeEvaluation[];
  close(): void;
}
