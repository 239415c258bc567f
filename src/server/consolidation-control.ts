/**
 * What the HTTP routes and the scheduler ask of consolidation. The implementation (consolidation-service.ts) runs
 * the SEAL step in a worker thread with its own model and store connection, and swaps the serving adapter when a
 * version is promoted or activated.
 */
import type { AdapterVersion, Consolidation } from "../domains/memory/types.js";

export interface ConsolidationControl {
  /**
   * Starts a consolidation of the pending documents (rebuild: a fresh adapter over everything not forgotten).
   * Resolves with its record once it is running (state "running"), or "skipped" when there is nothing to do.
   * Rejects with ConsolidationBusyError while another runs.
   */
  start(trigger: "manual" | "schedule", options?: { rebuild?: boolean }): Promise<Consolidation>;
  /** The consolidation running now, if any. */
  running(): Consolidation | null;
  /** Serves `versionId`'s adapter (rollback or roll forward) and records it active; atomic for requests in flight. */
  activate(versionId: number, options?: { force?: boolean }): Promise<AdapterVersion>;
  close(): Promise<void>;
}
