/**
 * Phase "evaluation": closed-book greedy answers (§1.5 prompts, the passage not given) to the new documents'
 * probes and to a sample of earlier documents' probes, with the parent version's adapter ("before") and the newly
 * trained one ("after"), graded locally (the gold answer contained in the answer, as `seal demo`). The answering
 * model is always the served one, never the teacher.
 */
import path from "node:path";
import type { LoraAdapter } from "../../engine/lora.js";
import { loadAdapter } from "../../io/peft.js";
import { gradeLocally } from "../knowledge/answer-grading.js";
import { answerPrompts } from "../knowledge/inner-loop.js";
import { closedBookQaPrompt } from "../knowledge/prompts.js";
import { versionAdapter } from "./consolidate-train.js";
import type { EvaluationReport, PhaseContext, TrainingReport } from "./consolidate-types.js";
import type { ConsolidationSettings } from "./consolidation-settings.js";
import type { GroupAccuracy } from "./gate.js";
import { derivedSeed, sampleIds } from "./replay.js";
import type { Consolidation, MemoryDocument, ProbeEvaluation } from "./types.js";

type Row = Omit<ProbeEvaluation, "versionId">;

function accuracy(rows: readonly Row[], group: Row["group"], phase: Row["phase"]): number | null {
  const chosen = rows.filter((r) => r.group === group && r.phase === phase);
  return chosen.length === 0 ? null : chosen.filter((r) => r.correct).length / chosen.length;
}

export function groupAccuracy(rows: readonly Row[], group: Row["group"]): GroupAccuracy {
  return {
    before: accuracy(rows, group, "before"),
    after: accuracy(rows, group, "after"),
    probes: rows.filter((r) => r.group === group && r.phase === "before").length,
  };
}

export function evaluateConsolidation(
  context: PhaseContext,
  consolidation: Consolidation,
  settings: ConsolidationSettings,
  training: TrainingReport,
): EvaluationReport {
  const { request } = context;
  const { model, tokenizer, stopTokenIds, store } = request;
  const live = (id: string) => {
    const d = context.document(id);
    return d !== null && d.state !== "forgotten" ? d : null;
  };
  const newDocuments = training.newDocumentIds.map(live).filter((d): d is MemoryDocument => d !== null);
  const parent = consolidation.parentVersionId === null ? null : store.getVersion(consolidation.parentVersionId);
  const newSet = new Set(training.newDocumentIds);
  const earlierIds = sampleIds(
    (parent?.documentIds ?? []).filter((id) => !newSet.has(id) && live(id) !== null),
    settings.evaluation.maxEarlierDocuments,
    derivedSeed(settings.seed, consolidation.id, "evaluation"),
  );
  const earlier = earlierIds.map(live).filter((d): d is MemoryDocument => d !== null);

  const items = [
    ...newDocuments.map((d) => ({ document: d, group: "new" as const })),
    ...earlier.map((d) => ({ document: d, group: "earlier" as const })),
  ].flatMap(({ document, group }) => document.probes.map((probe) => ({ document, group, probe })));
  const prompts = items.map((item) => closedBookQaPrompt(item.document.title, item.probe.question));

  const before = versionAdapter(context, consolidation.parentVersionId);
  const after: LoraAdapter | null =
    training.adapterPath === null ? null : loadAdapter(path.join(request.dataDir, training.adapterPath), model.config);
  const previous = model.adapter;
  const answersWith = (adapter: LoraAdapter | null) => {
    model.adapter = adapter;
    return answerPrompts(
      model,
      tokenizer,
      prompts,
      { maxAnswerTokens: settings.answers.maxTokens, answerBatch: settings.answers.batch },
      stopTokenIds,
    );
  };
  let answers: { before: string[]; after: string[] };
  try {
    answers = { before: answersWith(before), after: answersWith(after) };
  } finally {
    model.adapter = previous;
  }
  const rows: Row[] = [];
  for (const phase of ["before", "after"] as const)
    items.forEach((item, i) => {
      const prediction = answers[phase][i];
      rows.push({
        documentId: item.document.id,
        group: item.group,
        phase,
        question: item.probe.question,
        answer: item.probe.answer,
        prediction,
        correct: gradeLocally(prediction, item.probe.answer).correct === true,
      });
    });
  return {
    new: groupAccuracy(rows, "new"),
    earlier: groupAccuracy(rows, "earlier"),
    earlierDocumentIds: earlier.map((d) => d.id),
    rows,
  };
}
