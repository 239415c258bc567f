/**
 * Shared types of the consolidation job: the engine(s) it runs on, the request, and the report it writes into the
 * consolidation's row phase by phase (JSON; a resumed run reads back what earlier phases recorded).
 */
import type { Model } from "../../engine/model.js";
import type { TextTokenizer } from "../../io/tokenizer.js";
import type { GateDecision, GroupAccuracy } from "./gate.js";
import type { ConsolidationPhase, MemoryDocument, MemoryStoreApi, ProbeEvaluation } from "./types.js";

/** A loaded model with its tokenizer and the token ids that end a generation. */
export interface ConsolidationEngine {
  model: Model;
  tokenizer: TextTokenizer;
  stopTokenIds: number[];
}

export interface RunConsolidationRequest extends ConsolidationEngine {
  store: MemoryStoreApi;
  /** The data folder: adapters are written under `adapters/`. */
  dataDir: string;
  consolidationId: number;
  /** A separate self-edit (and probe) writer; without one the served model writes them. */
  teacher?: ConsolidationEngine;
  /**
   * Ignored: the settings stored in the consolidation's row are authoritative, so a resumed run uses exactly
   * the settings it started with (planConsolidation stores them).
   */
  settings?: unknown;
  log?: (line: string) => void;
  /** Called as each phase starts. */
  onPhase?: (phase: ConsolidationPhase) => void;
}

export interface TrainingReport {
  /** "parent-adapter": continued from the parent version's adapter; "fresh": a new adapter. */
  start: "parent-adapter" | "fresh";
  newDocumentIds: string[];
  /** Rebuild: earlier documents trained again from their consolidated self-edits. */
  retainedDocumentIds: string[];
  /** Incremental: earlier documents replayed. */
  replayDocumentIds: string[];
  /** The documents the trained weights hold (the version's documentIds). */
  versionDocumentIds: string[];
  sequences: number;
  steps: number;
  tokens: number;
  firstEpochLoss: number | null;
  lastEpochLoss: number | null;
  /** Relative to the data folder; null when nothing was left to train (the base model alone). */
  adapterPath: string | null;
}

export interface EvaluationReport {
  new: GroupAccuracy;
  earlier: GroupAccuracy;
  /** Evaluated earlier documents (a seeded sample of the parent's when there are more). */
  earlierDocumentIds: string[];
  /** The graded answers, kept here until the version exists and they are saved with its id. */
  rows?: Array<Omit<ProbeEvaluation, "versionId">>;
}

export interface ConsolidationReport {
  /** Seconds spent per phase (summed over resumes). */
  seconds: Partial<Record<ConsolidationPhase, number>>;
  selfEdits?: { writer: "model" | "teacher"; documents: number; selfEdits: number; skipped: string[] };
  probes?: { given: number; generated: number; documentsWithoutProbes: string[] };
  training?: TrainingReport;
  evaluation?: EvaluationReport;
  gate?: GateDecision;
  /** Headline figures (copied from evaluation and gate). */
  accuracy?: {
    newBefore: number | null;
    newAfter: number | null;
    earlierBefore: number | null;
    earlierAfter: number | null;
    forgetting: number | null;
  };
}

/** What each phase function gets. */
export interface PhaseContext {
  request: RunConsolidationRequest;
  report: ConsolidationReport;
  log: (line: string) => void;
  /** A document as the store has it now (a forgotten one shows state "forgotten"). */
  document: (id: string) => MemoryDocument | null;
  /** Records the running phase's seconds in the report (called just before the report is written). */
  stampTime: () => void;
}
