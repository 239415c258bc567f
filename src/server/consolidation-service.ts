/**
 * The ConsolidationControl the server uses: one consolidation at a time in a worker thread (its own model and
 * store connection), the serving adapter swapped when a version is promoted or activated, and a consolidation a
 * crash left running resumed at start-up (its phases are in the store, so nothing done is done twice).
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import "../native/index.js"; // keep the addon loaded on this thread while workers come and go (see generation/client.ts)
import { planConsolidation } from "../domains/memory/consolidate-plan.js";
import { type ConsolidationSettings, consolidationSettingsFor } from "../domains/memory/consolidation-settings.js";
import { ConsolidationBusyError, MemoryNotFoundError, VersionRejectedError } from "../domains/memory/errors.js";
import type { AdapterVersion, Consolidation, MemoryStoreApi } from "../domains/memory/types.js";
import type { ConsolidationControl } from "./consolidation-control.js";
import type { ConsolidationWorkerData, FromConsolidationWorker } from "./consolidation-protocol.js";
import type { GenerationService } from "./generation/types.js";

const WORKER_FILE = new URL("./consolidation-worker.js", import.meta.url);

export interface ConsolidationServiceOptions {
  store: MemoryStoreApi;
  /** The store's file, opened again by the worker. */
  storeFile: string;
  dataDir: string;
  modelDir: string;
  teacherDir: string | null;
  generation: Pick<GenerationService, "setAdapter">;
  /** Settings for new consolidations (default: consolidationSettingsFor(modelDir)). */
  settings?: ConsolidationSettings;
  log?: (line: string) => void;
}

export class ConsolidationService implements ConsolidationControl {
  private worker: Worker | null = null;
  private runningId: number | null = null;
  /** Settles when the current worker has finished and its result is applied (tests and close wait on it). */
  private finished: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ConsolidationServiceOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Resumes a consolidation left running by a crash or kill; returns it, or null when there was none. */
  resumeInterrupted(): Consolidation | null {
    const interrupted = this.options.store.runningConsolidation();
    if (interrupted === null) return null;
    this.log(`consolidation ${interrupted.id}: resuming at phase ${interrupted.phase}`);
    this.launch(interrupted.id);
    return interrupted;
  }

  async start(trigger: "manual" | "schedule", options: { rebuild?: boolean } = {}): Promise<Consolidation> {
    if (this.closed) throw new Error("the consolidation service is closed");
    if (this.runningId !== null) throw new ConsolidationBusyError(this.runningId);
    const { store } = this.options;
    const settings = this.options.settings ?? consolidationSettingsFor(this.options.modelDir);
    const planned = planConsolidation(store, { trigger, rebuild: options.rebuild, settings });
    if (planned === null) return this.recordSkipped(trigger, settings);
    this.launch(planned.id);
    return planned;
  }

  running(): Consolidation | null {
    return this.runningId === null ? null : this.options.store.getConsolidation(this.runningId);
  }

  /** Resolves once the consolidation running now (if any) has finished and its adapter serves. */
  idle(): Promise<void> {
    return this.finished;
  }

  async activate(versionId: number, options: { force?: boolean } = {}): Promise<AdapterVersion> {
    const { store, generation } = this.options;
    const version = store.getVersion(versionId);
    if (version === null) throw new MemoryNotFoundError("version", versionId);
    if (version.status === "rejected" && options.force !== true)
      throw new VersionRejectedError(version.id, version.reason);
    const previous = store.activeVersion();
    // Serve the adapter first: if it cannot be loaded, the store still names the version that serves.
    await generation.setAdapter(this.adapterDir(version));
    try {
      return store.activateVersion(versionId, options);
    } catch (error) {
      await generation.setAdapter(previous === null ? null : this.adapterDir(previous));
      throw error;
    }
  }

  /** Stops a running consolidation's worker; its record stays "running", so the next start resumes it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
    await this.finished;
  }

  private adapterDir(version: AdapterVersion): string | null {
    return version.adapterPath === null ? null : path.join(this.options.dataDir, version.adapterPath);
  }

  private recordSkipped(trigger: "manual" | "schedule", settings: Record<string, unknown>): Consolidation {
    const { store } = this.options;
    const started = store.startConsolidation({
      trigger,
      documentIds: [],
      parentVersionId: store.activeVersion()?.id ?? null,
      mode: "incremental",
      settings,
    });
    return store.updateConsolidation(started.id, {
      state: "skipped",
      phase: "done",
      error: null,
      report: { reason: "no pending documents and nothing forgotten" },
    });
  }

  private launch(consolidationId: number): void {
    const data: ConsolidationWorkerData = {
      storeFile: this.options.storeFile,
      dataDir: this.options.dataDir,
      modelDir: this.options.modelDir,
      teacherDir: this.options.teacherDir,
      consolidationId,
    };
    const worker = new Worker(WORKER_FILE, { workerData: data });
    this.worker = worker;
    this.runningId = consolidationId;
    let outcome: FromConsolidationWorker | null = null;
    this.finished = new Promise<void>((resolve) => {
      worker.on("message", (message: FromConsolidationWorker) => {
        // The job's own lines name the consolidation and its phases.
        if (message.type === "log") this.log(message.line);
        else if (message.type !== "phase") outcome = message;
      });
      worker.on("error", (error) => {
        outcome ??= { type: "error", message: error.message };
      });
      worker.on("exit", (code) => {
        this.worker = null;
        this.settle(consolidationId, outcome, code)
          .catch((error: unknown) =>
            this.log(`consolidation ${consolidationId}: ${error instanceof Error ? error.message : String(error)}`),
          )
          .finally(() => {
            this.runningId = null;
            resolve();
          });
      });
    });
  }

  /** Applies a finished worker's result: serve a promoted version, or record why it failed. */
  private async settle(id: number, outcome: FromConsolidationWorker | null, exitCode: number): Promise<void> {
    const { store, generation } = this.options;
    if (outcome?.type === "done") {
      const done = outcome.consolidation;
      this.log(`consolidation ${id}: ${done.state}${done.error ? ` (${done.error})` : ""}`);
      const version = done.versionId === null ? null : store.getVersion(done.versionId);
      if (version !== null && version.status === "active") await generation.setAdapter(this.adapterDir(version));
      return;
    }
    if (this.closed && outcome === null) return; // terminated by close(): left running, resumed at the next start
    const message =
      outcome?.type === "error" ? outcome.message : `the consolidation worker exited with code ${exitCode}`;
    const current = store.getConsolidation(id);
    if (current?.state === "running")
      store.updateConsolidation(id, { state: "failed", error: message, finishedAt: new Date().toISOString() });
    this.log(`consolidation ${id}: failed: ${message}`);
  }
}
