/** SQLite rows of the memory store ↔ the domain records (types.ts): column names, JSON columns, 0/1 booleans. */
import type {
  AdapterVersion,
  Consolidation,
  ConsolidationPhase,
  ConsolidationState,
  ConsolidationTrigger,
  DocumentKind,
  DocumentState,
  MemoryDocument,
  Probe,
  ProbeEvaluation,
  VersionStatus,
} from "./types.js";

export interface DocumentRow {
  seq: number;
  id: string;
  content_hash: string;
  kind: DocumentKind;
  title: string;
  text: string;
  source: string | null;
  metadata: string;
  state: DocumentState;
  created_at: string;
  consolidated_in: number | null;
  forgotten_at: string | null;
}

export interface ProbeRow {
  document_id: string;
  ordinal: number;
  question: string;
  answer: string;
  origin: Probe["origin"];
}

export interface ConsolidationRow {
  id: number;
  trigger: ConsolidationTrigger;
  state: ConsolidationState;
  phase: ConsolidationPhase;
  document_ids: string;
  parent_version_id: number | null;
  mode: Consolidation["mode"];
  settings: string;
  version_id: number | null;
  report: string | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface VersionRow {
  id: number;
  consolidation_id: number | null;
  parent_id: number | null;
  adapter_path: string | null;
  status: VersionStatus;
  reason: string | null;
  created_at: string;
  activated_at: string | null;
}

export interface EvaluationRow {
  version_id: number;
  document_id: string;
  grp: ProbeEvaluation["group"];
  phase: ProbeEvaluation["phase"];
  question: string;
  answer: string;
  prediction: string;
  correct: number;
}

export function documentFromRow(row: DocumentRow, probes: Probe[]): MemoryDocument {
  return {
    id: row.id,
    contentHash: row.content_hash,
    kind: row.kind,
    title: row.title,
    text: row.text,
    source: row.source,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    probes,
    state: row.state,
    createdAt: row.created_at,
    consolidatedIn: row.consolidated_in,
    forgottenAt: row.forgotten_at,
  };
}

export function probeFromRow(row: ProbeRow): Probe {
  return { question: row.question, answer: row.answer, origin: row.origin };
}

export function consolidationFromRow(row: ConsolidationRow): Consolidation {
  return {
    id: row.id,
    trigger: row.trigger,
    state: row.state,
    phase: row.phase,
    documentIds: JSON.parse(row.document_ids) as string[],
    parentVersionId: row.parent_version_id,
    mode: row.mode,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    versionId: row.version_id,
    report: row.report === null ? null : (JSON.parse(row.report) as Record<string, unknown>),
    error: row.error,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function versionFromRow(row: VersionRow, documentIds: string[]): AdapterVersion {
  return {
    id: row.id,
    consolidationId: row.consolidation_id,
    parentId: row.parent_id,
    adapterPath: row.adapter_path,
    status: row.status,
    reason: row.reason,
    documentIds,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
  };
}

export function evaluationFromRow(row: EvaluationRow): ProbeEvaluation {
  return {
    versionId: row.version_id,
    documentId: row.document_id,
    group: row.grp,
    phase: row.phase,
    question: row.question,
    answer: row.answer,
    prediction: row.prediction,
    correct: row.correct === 1,
  };
}
