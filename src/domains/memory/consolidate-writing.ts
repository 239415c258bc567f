/**
 * The writing phases of a consolidation: self-edits for each new document, and probe questions for new documents
 * given without any. The writer is the teacher when there is one, else the served model with NO adapter attached
 * (the base model): that is the writer `seal demo` measured ("base-model self-edits"), and an adapter trained on
 * fact statements is not trained to write. Each document's self-edits are saved as soon as they are written, so a
 * resumed run writes only the missing ones.
 */
import { generate } from "../../engine/generate.js";
import { buildSelfEditPrompt } from "../knowledge/prompts.js";
import { pythonStrip } from "../knowledge/sequences.js";
import type { ConsolidationEngine, PhaseContext } from "./consolidate-types.js";
import type { ConsolidationSettings } from "./consolidation-settings.js";
import { probePrompt, probesFromCompletions } from "./probes.js";
import { derivedSeed } from "./replay.js";
import type { Consolidation, MemoryDocument } from "./types.js";

interface Sampling {
  k: number;
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  batch: number;
}

/**
 * Samples `sampling.k` completions per prompt with the writer (adapter detached for the call). A prompt that does
 * not fit the model's context gets no completions (the caller trains on the passage alone for it).
 */
export function sampleCompletions(
  writer: ConsolidationEngine,
  prompts: readonly string[],
  sampling: Sampling,
  seed: number,
): string[][] {
  const { model, tokenizer } = writer;
  const encoded = prompts.map((p) => tokenizer.encode(p, { addSpecialTokens: true }));
  const fits = encoded.map((ids) => ids.length + 1 < model.config.maxPositionEmbeddings);
  const out: string[][] = prompts.map(() => []);
  const indices = encoded.map((_, i) => i).filter((i) => fits[i]);
  if (indices.length === 0) return out;
  const previous = model.adapter;
  model.adapter = null;
  try {
    const generations = generate(
      model,
      indices.map((i) => encoded[i]),
      {
        temperature: sampling.temperature,
        topP: sampling.topP,
        topK: sampling.topK,
        maxNewTokens: sampling.maxTokens,
        beyondContext: "stop",
        n: sampling.k,
        stopTokenIds: writer.stopTokenIds,
        stopStrings: [],
        seed,
        maxBatch: sampling.batch,
        decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      },
    );
    for (const g of generations) out[indices[g.promptIndex]][g.sampleIndex] = pythonStrip(g.text ?? "");
  } finally {
    model.adapter = previous;
  }
  return out;
}

function writerOf(context: PhaseContext): { engine: ConsolidationEngine; name: "model" | "teacher" } {
  const { request } = context;
  return request.teacher === undefined
    ? { engine: request, name: "model" }
    : { engine: request.teacher, name: "teacher" };
}

/** The consolidation's new documents that are still there (a document forgotten meanwhile is left out). */
export function liveNewDocuments(context: PhaseContext, consolidation: Consolidation): MemoryDocument[] {
  return consolidation.documentIds
    .map((id) => context.document(id))
    .filter((d): d is MemoryDocument => d !== null && d.state !== "forgotten");
}

/** Phase "self-edits": k self-edits per new document, each document's saved as soon as it is written. */
export function writeSelfEdits(
  context: PhaseContext,
  consolidation: Consolidation,
  settings: ConsolidationSettings,
): void {
  const { store } = context.request;
  const writer = writerOf(context);
  const done = store.selfEditsOf(consolidation.id);
  const documents = liveNewDocuments(context, consolidation);
  const missing = documents.filter((d) => !done.has(d.id));
  const s = settings.selfEdits;
  const perChunk = Math.max(1, Math.floor(s.batch / s.k));
  const skipped: string[] = [...(context.report.selfEdits?.skipped ?? [])];
  for (let first = 0; first < missing.length; first += perChunk) {
    const chunk = missing.slice(first, first + perChunk);
    const prompts = chunk.map((d) => buildSelfEditPrompt(s.style, d.title, d.text));
    const completions = sampleCompletions(
      writer.engine,
      prompts,
      s,
      derivedSeed(settings.seed, consolidation.id, chunk[0].id),
    );
    chunk.forEach((d, i) => {
      if (completions[i].length === 0) skipped.push(d.id);
      store.saveSelfEdits(consolidation.id, d.id, completions[i]);
    });
    context.log(
      `consolidation ${consolidation.id}: self-edits written for ${first + chunk.length} of ${missing.length} documents`,
    );
  }
  const all = store.selfEditsOf(consolidation.id);
  context.report.selfEdits = {
    writer: writer.name,
    documents: documents.length,
    selfEdits: [...all.values()].reduce((n, edits) => n + edits.length, 0),
    skipped,
  };
}

/** Phase "probes": generated probe questions for the new documents that came without any. */
export function writeProbes(
  context: PhaseContext,
  consolidation: Consolidation,
  settings: ConsolidationSettings,
): void {
  const { store } = context.request;
  const writer = writerOf(context);
  const documents = liveNewDocuments(context, consolidation);
  const p = settings.probes;
  let given = 0;
  let generated = 0;
  const without: string[] = [];
  for (const document of documents) {
    if (document.probes.length > 0) {
      if (document.probes.every((probe) => probe.origin === "given")) given += document.probes.length;
      else generated += document.probes.length;
      continue;
    }
    const [completions] = sampleCompletions(
      writer.engine,
      [probePrompt(p.prompt, document.title, document.text)],
      {
        k: p.samples,
        temperature: p.temperature,
        topP: 0.95,
        topK: 0,
        maxTokens: p.maxTokens,
        batch: Math.min(16, p.samples),
      },
      derivedSeed(settings.seed, consolidation.id, "probes", document.id),
    );
    const probes = probesFromCompletions(completions, `${document.title}\n${document.text}`, p.prompt, p);
    if (probes.length === 0) {
      without.push(document.id);
      continue;
    }
    store.setProbes(document.id, probes);
    generated += probes.length;
  }
  context.report.probes = { given, generated, documentsWithoutProbes: without };
  context.log(
    `consolidation ${consolidation.id}: probes: ${given} given, ${generated} generated, ${without.length} documents without`,
  );
}
