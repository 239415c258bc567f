/** Messages between the consolidation service and its worker thread. */
import type { Consolidation, ConsolidationPhase } from "../domains/memory/types.js";

export interface ConsolidationWorkerData {
  storeFile: string;
  dataDir: string;
  modelDir: string;
  teacherDir: string | null;
  consolidationId: number;
}

export type FromConsolidationWorker =
  | { type: "log"; line: string }
  | { type: "phase"; phase: ConsolidationPhase }
  | { type: "done"; consolidation: Consolidation }
  | { type: "error"; message: string };
