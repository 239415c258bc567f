/**
 * The SEAL step of `seal serve` (issue 11): a consolidation bakes the pending documents into a LoRA adapter.
 * Synchronous; it runs inside the consolidation worker. Phases, each recorded in the store as it finishes so that a
 * restart resumes at the first unfinished one:
 *
 *   self-edits  k self-edits per new document (consolidate-writing.ts), saved per document as written
 *   probes      probe questions generated for new documents given without any
 *   training    the adapter (consolidate-train.ts; redone from scratch when interrupted)
 *   evaluation  closed-book answers before/after (consolidate-evaluate.ts)
 *   gate        promote or reject (gate.ts); the version is created, the graded answers saved with its id
 *   done
 *
 * It does not switch the served adapter: creating the version (status active) makes it the store's active one, and
 * the caller swaps the adapter. A thrown error marks the consolidation failed with the message; a kill leaves it
 * running (phase recorded) for the restart to resume.
 */
import { evaluateConsolidation } from "./consolidate-evaluate.js";
import { trainConsolidation } from "./consolidate-train.js";
import type { ConsolidationReport, PhaseContext, RunConsolidationRequest } from "./consolidate-types.js";
import { writeProbes, writeSelfEdits } from "./consolidate-writing.js";
import { type ConsolidationSettings, parseConsolidationSettings } from "./consolidation-settings.js";
import { gateDecision } from "./gate.js";
import type { Consolidation, ConsolidationPhase } from "./types.js";

export { allDocuments, forgottenInActive, planConsolidation } from "./consolidate-plan.js";
export type { ConsolidationEngine, ConsolidationReport, RunConsolidationRequest } from "./consolidate-types.js";
export { consolidationSettingsFor } from "./consolidation-settings.js";

const PHASES: readonly ConsolidationPhase[] = ["self-edits", "probes", "training", "evaluation", "gate", "done"];

function readReport(consolidation: Consolidation): ConsolidationReport {
  const report = (consolidation.report ?? {}) as Partial<ConsolidationReport>;
  return { ...report, seconds: { ...(report.seconds ?? {}) } };
}

function runPhase(
  context: PhaseContext,
  consolidation: Consolidation,
  settings: ConsolidationSettings,
  phase: ConsolidationPhase,
): Consolidation {
  const { store } = context.request;
  const { report } = context;
  const id = consolidation.id;
  switch (phase) {
    case "self-edits":
      writeSelfEdits(context, consolidation, settings);
      break;
    case "probes":
      writeProbes(context, consolidation, settings);
      break;
    case "training":
      report.training = trainConsolidation(context, consolidation, settings);
      break;
    case "evaluation": {
      if (report.training === undefined) throw new Error(`consolidation ${id}: no training report to evaluate`);
      report.evaluation = evaluateConsolidation(context, consolidation, settings, report.training);
      break;
    }
    case "gate":
      return gate(context, consolidation, settings);
    case "done":
      return consolidation;
  }
  context.stampTime();
  return store.updateConsolidation(id, { phase: PHASES[PHASES.indexOf(phase) + 1], report: asJson(report) });
}

const asJson = (report: ConsolidationReport) => report as unknown as Record<string, unknown>;

function gate(context: PhaseContext, consolidation: Consolidation, settings: ConsolidationSettings): Consolidation {
  const { store } = context.request;
  const { report } = context;
  const { training, evaluation } = report;
  if (training === undefined || evaluation === undefined)
    throw new Error(`consolidation ${consolidation.id}: the gate needs the training and evaluation reports`);
  const parent = consolidation.parentVersionId === null ? null : store.getVersion(consolidation.parentVersionId);
  const kept = new Set(training.versionDocumentIds);
  const forgottenRemoved = (parent?.documentIds ?? []).filter((id) => !kept.has(id)).length;
  const decision = gateDecision({
    newDocuments: training.newDocumentIds.length,
    newAccuracy: evaluation.new,
    earlierAccuracy: evaluation.earlier,
    maxForgetting: settings.gate.maxForgetting,
    forgottenRemoved,
  });
  // A restart after createVersion but before the row said so finds the version instead of making a second one.
  const version =
    store.listVersions().find((v) => v.consolidationId === consolidation.id) ??
    store.createVersion({
      consolidationId: consolidation.id,
      parentId: consolidation.parentVersionId,
      adapterPath: training.adapterPath,
      status: decision.promote ? "active" : "rejected",
      reason: decision.reason,
      documentIds: training.versionDocumentIds,
    });
  if (store.evaluationsOf(version.id).length === 0 && evaluation.rows !== undefined)
    store.saveEvaluations(evaluation.rows.map((row) => ({ ...row, versionId: version.id })));
  report.gate = decision;
  report.accuracy = {
    newBefore: evaluation.new.before,
    newAfter: evaluation.new.after,
    earlierBefore: evaluation.earlier.before,
    earlierAfter: evaluation.earlier.after,
    forgetting: decision.forgetting,
  };
  // The answers now live in the evaluations table.
  report.evaluation = { ...evaluation, rows: undefined };
  delete report.evaluation.rows;
  context.log(`consolidation ${consolidation.id}: version ${version.id} ${decision.reason}`);
  context.stampTime();
  return store.updateConsolidation(consolidation.id, {
    phase: "done",
    state: version.status === "rejected" ? "rejected" : "promoted",
    versionId: version.id,
    report: asJson(report),
    finishedAt: new Date().toISOString(),
  });
}

/**
 * Runs (or resumes) a started consolidation to its end and returns its final row: promoted, rejected, or failed
 * with the error's message. The model's adapter is the same on return as on entry.
 */
export function runConsolidation(request: RunConsolidationRequest): Consolidation {
  const { store, model, consolidationId } = request;
  const log = request.log ?? (() => {});
  let consolidation = store.getConsolidation(consolidationId);
  if (consolidation === null) throw new Error(`consolidation ${consolidationId} does not exist`);
  if (consolidation.state !== "running") return consolidation;
  const adapter = model.adapter;
  let timing: { phase: ConsolidationPhase; started: number; base: number } | null = null;
  const context: PhaseContext = {
    request,
    report: readReport(consolidation),
    log,
    document: (id) => store.getDocument(id),
    stampTime: () => {
      if (timing !== null)
        context.report.seconds[timing.phase] = timing.base + (performance.now() - timing.started) / 1000;
    },
  };
  try {
    const settings = parseConsolidationSettings(consolidation.settings);
    for (let i = PHASES.indexOf(consolidation.phase); i >= 0 && i < PHASES.length - 1; i++) {
      const phase = PHASES[i];
      request.onPhase?.(phase);
      log(`consolidation ${consolidationId}: phase ${phase}`);
      // The phase's time goes into the report it writes when it ends (an interrupted phase's is not counted).
      timing = { phase, started: performance.now(), base: context.report.seconds[phase] ?? 0 };
      consolidation = runPhase(context, consolidation, settings, phase);
      if (consolidation.phase === "done") break;
    }
    return consolidation;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`consolidation ${consolidationId}: failed: ${message}`);
    return store.updateConsolidation(consolidationId, {
      state: "failed",
      error: message,
      report: asJson(context.report),
      finishedAt: new Date().toISOString(),
    });
  } finally {
    model.adapter = adapter;
  }
}
