/**
 * Planning a consolidation: which documents it takes and whether it continues the active adapter or rebuilds one.
 *
 * Decision (issue 11): an incremental consolidation CONTINUES TRAINING THE PARENT VERSION'S ADAPTER on the new
 * documents' self-edits plus a replay sample of earlier documents' self-edits. Continuing keeps what earlier
 * versions learned in the weights without retraining every document each time (the cost of a consolidation grows
 * with the new documents and the replay cap, not with the whole memory), and replay plus the forgetting gate guard
 * the earlier knowledge. A fresh adapter cannot remove knowledge from a continued one, so a REBUILD (asked for, or
 * forced when a document held by the active version was forgotten) trains a new adapter from scratch on every
 * consolidated, non-forgotten document's stored self-edits plus the pending ones: the forgotten document's
 * self-edits are simply not in it.
 */
import type { ConsolidationSettings } from "./consolidation-settings.js";
import type { Consolidation, ConsolidationTrigger, DocumentState, MemoryDocument, MemoryStoreApi } from "./types.js";

const PAGE = 500;

/** Every document in `state` (paged, so a store's default list limit does not cut it short). */
export function allDocuments(store: MemoryStoreApi, state: DocumentState): MemoryDocument[] {
  const out: MemoryDocument[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = store.listDocuments({ state, limit: PAGE, offset });
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

/** Documents of the active version that have been forgotten since (their knowledge is still in its weights). */
export function forgottenInActive(store: MemoryStoreApi): string[] {
  const active = store.activeVersion();
  if (active === null) return [];
  return active.documentIds.filter((id) => (store.getDocument(id)?.state ?? "forgotten") === "forgotten");
}

export interface PlanOptions {
  trigger: ConsolidationTrigger;
  /** Train a fresh adapter over everything consolidated (also done, unasked, after a forget). */
  rebuild?: boolean;
  settings: ConsolidationSettings;
}

/**
 * Starts a consolidation of the pending documents (kinds document and experience), or returns null when there is
 * nothing to do: no pending document and no rebuild needed (a rebuild asked for with nothing ever consolidated and
 * nothing pending is nothing to do too). Throws the store's busy error when one is running.
 */
export function planConsolidation(store: MemoryStoreApi, options: PlanOptions): Consolidation | null {
  const pending = allDocuments(store, "pending").map((d) => d.id);
  const active = store.activeVersion();
  const mustRebuild = forgottenInActive(store).length > 0;
  const mode = options.rebuild === true || mustRebuild ? "rebuild" : "incremental";
  if (pending.length === 0) {
    if (mode === "incremental") return null;
    const anythingConsolidated = active !== null || allDocuments(store, "consolidated").length > 0;
    if (!anythingConsolidated) return null;
  }
  return store.startConsolidation({
    trigger: options.trigger,
    documentIds: pending,
    parentVersionId: active?.id ?? null,
    mode,
    settings: options.settings as unknown as Record<string, unknown>,
  });
}
