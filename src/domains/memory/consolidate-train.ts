/**
 * Phase "training": one LoRA adapter over the training sequences (§1.3) of the new documents' self-edits plus
 * either a replay sample of earlier documents (incremental: the parent's adapter is continued) or every retained
 * document (rebuild: a fresh adapter); see consolidate-plan.ts for why. Training always starts over when a run is
 * resumed in this phase (any adapter folder left by the interrupted run is removed first). The adapter is written
 * to `adapters/.c{id}.tmp-{pid}` and renamed to `adapters/c{id}`, so that folder is absent or complete.
 */
import fs from "node:fs";
import path from "node:path";
import { createLoraAdapter, type LoraAdapter } from "../../engine/lora.js";
import { Rng } from "../../engine/random.js";
import { type SftExample, trainSft } from "../../engine/train.js";
import { baseModelFingerprint } from "../../io/base-fingerprint.js";
import { crashPoint } from "../../io/crash-point.js";
import { loadAdapter, saveAdapter } from "../../io/peft.js";
import { buildPooledTrainSequences } from "../knowledge/sequences.js";
import { allDocuments } from "./consolidate-plan.js";
import type { PhaseContext, TrainingReport } from "./consolidate-types.js";
import { liveNewDocuments } from "./consolidate-writing.js";
import type { ConsolidationSettings } from "./consolidation-settings.js";
import { derivedSeed, sampleIds } from "./replay.js";
import type { Consolidation, MemoryDocument } from "./types.js";

export const ADAPTERS_DIR = "adapters";

/** The adapter folder of a consolidation, relative to the data folder. */
export function adapterPathOf(consolidationId: number): string {
  return path.join(ADAPTERS_DIR, `c${consolidationId}`);
}

/** Removes what an interrupted training of this consolidation may have left (its folder, any process's temp). */
function clearAdapterFolders(dataDir: string, consolidationId: number): void {
  const dir = path.join(dataDir, ADAPTERS_DIR);
  fs.rmSync(path.join(dataDir, adapterPathOf(consolidationId)), { recursive: true, force: true });
  if (!fs.existsSync(dir)) return;
  const prefix = `.c${consolidationId}.tmp-`;
  for (const name of fs.readdirSync(dir))
    if (name.startsWith(prefix)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

/** Loads the adapter of a version (null for the base model). */
export function versionAdapter(context: PhaseContext, versionId: number | null): LoraAdapter | null {
  if (versionId === null) return null;
  const version = context.request.store.getVersion(versionId);
  if (version === null || version.adapterPath === null) return null;
  return loadAdapter(path.join(context.request.dataDir, version.adapterPath), context.request.model.config);
}

const isLive = (d: MemoryDocument | null): d is MemoryDocument => d !== null && d.state !== "forgotten";

export function trainConsolidation(
  context: PhaseContext,
  consolidation: Consolidation,
  settings: ConsolidationSettings,
): TrainingReport {
  const { request } = context;
  const { store, model, tokenizer, dataDir } = request;
  clearAdapterFolders(dataDir, consolidation.id);
  const parent = consolidation.parentVersionId === null ? null : store.getVersion(consolidation.parentVersionId);
  const newDocuments = liveNewDocuments(context, consolidation);
  const newIds = newDocuments.map((d) => d.id);
  const newSet = new Set(newIds);
  const selfEdits = store.selfEditsOf(consolidation.id);

  let start: TrainingReport["start"] = "fresh";
  let adapter: LoraAdapter | null = null;
  let retained: MemoryDocument[] = [];
  let replay: MemoryDocument[] = [];
  let versionDocumentIds: string[];
  if (consolidation.mode === "incremental") {
    adapter = versionAdapter(context, consolidation.parentVersionId);
    if (adapter !== null) start = "parent-adapter";
    const earlier = (parent?.documentIds ?? []).filter((id) => !newSet.has(id));
    const liveEarlier = earlier.filter((id) => isLive(context.document(id)));
    const replayIds = sampleIds(
      liveEarlier,
      settings.replay.maxDocuments,
      derivedSeed(settings.seed, consolidation.id, "replay"),
    );
    replay = replayIds.map((id) => context.document(id)).filter(isLive);
    // The continued weights still hold every parent document, a forgotten one too: listing it keeps the next
    // plan's forget check (which then rebuilds) truthful.
    versionDocumentIds = [...earlier, ...newIds];
  } else {
    const candidates = new Set([
      ...(parent?.documentIds ?? []),
      ...allDocuments(store, "consolidated").map((d) => d.id),
    ]);
    retained = [...candidates]
      .filter((id) => !newSet.has(id))
      .map((id) => context.document(id))
      .filter(isLive);
    versionDocumentIds = [...retained.map((d) => d.id), ...newIds];
  }

  const articles = [
    ...newDocuments.map((d) => ({ title: d.title, context: d.text, completions: selfEdits.get(d.id) ?? [] })),
    ...[...retained, ...replay].map((d) => ({
      title: d.title,
      context: d.text,
      completions: store.consolidatedSelfEdits(d.id),
    })),
  ];
  const sequences = articles.flatMap((article) =>
    buildPooledTrainSequences([article], {
      completionsPerArticle: article.completions.length,
      splitNewlines: settings.splitNewlines,
    }),
  );
  const maxTokens = model.config.maxPositionEmbeddings;
  const examples: SftExample[] = sequences
    .map((text) => ({
      tokens: tokenizer.encode(text, { addSpecialTokens: settings.addSpecialTokens }).slice(0, maxTokens),
      lossMask: null,
    }))
    .filter((e) => e.tokens.length >= 2);

  const report: TrainingReport = {
    start,
    newDocumentIds: newIds,
    retainedDocumentIds: retained.map((d) => d.id),
    replayDocumentIds: replay.map((d) => d.id),
    versionDocumentIds,
    sequences: examples.length,
    steps: 0,
    tokens: 0,
    firstEpochLoss: null,
    lastEpochLoss: null,
    adapterPath: null,
  };
  if (examples.length === 0) {
    // Nothing left to hold (a rebuild after everything was forgotten): the version is the base model alone.
    if (start === "parent-adapter") throw new Error("incremental consolidation with nothing to train");
    context.log(`consolidation ${consolidation.id}: nothing to train; the version is the base model alone`);
    return report;
  }
  const seed = derivedSeed(settings.seed, consolidation.id, "train");
  const trained = adapter ?? createLoraAdapter(model.config, settings.lora, new Rng(seed));
  const epochs = settings.train.epochs;
  const previous = model.adapter;
  let result: ReturnType<typeof trainSft>;
  try {
    result = trainSft(
      model,
      examples,
      { kind: "lora", adapter: trained },
      { ...settings.train, warmupRatio: 0, seed },
      (step) => {
        if (step.step % 100 === 0 || step.step === step.totalSteps)
          context.log(
            `consolidation ${consolidation.id}: training step ${step.step}/${step.totalSteps}, loss ${step.loss.toFixed(3)}`,
          );
        crashPoint("train-step", "consolidate");
      },
    );
  } finally {
    model.adapter = previous;
  }
  const perEpoch = Math.max(1, Math.round(result.losses.length / epochs));
  const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length);
  report.steps = result.steps;
  report.tokens = result.tokensTrained;
  report.firstEpochLoss = mean(result.losses.slice(0, perEpoch));
  report.lastEpochLoss = mean(result.losses.slice(-perEpoch));

  const relative = adapterPathOf(consolidation.id);
  const finalDir = path.join(dataDir, relative);
  const tempDir = path.join(dataDir, ADAPTERS_DIR, `.c${consolidation.id}.tmp-${process.pid}`);
  fs.rmSync(tempDir, { recursive: true, force: true });
  saveAdapter(tempDir, trained, { baseFingerprint: baseModelFingerprint(model.config, model.weights) });
  crashPoint("publish", `c${consolidation.id}`);
  fs.renameSync(tempDir, finalDir);
  report.adapterPath = relative;
  return report;
}
