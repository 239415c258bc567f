import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ConsolidationBusyError,
  MemoryInputError,
  MemoryNotFoundError,
  VersionRejectedError,
} from "../../../src/domains/memory/errors.js";
import type { MemoryStore } from "../../../src/domains/memory/store.js";
import type { ProbeEvaluation } from "../../../src/domains/memory/types.js";
import { tempStore } from "./store-fixtures.js";

function addDocs(store: MemoryStore, ...texts: string[]): string[] {
  return texts.map((text) => store.addDocument({ text }).document.id);
}

function states(store: MemoryStore, ids: string[]): string[] {
  return ids.map((id) => store.getDocument(id)!.state);
}

const start = (store: MemoryStore, documentIds: string[], parentVersionId: number | null = null) =>
  store.startConsolidation({
    trigger: "manual",
    documentIds,
    parentVersionId,
    mode: "incremental",
    settings: { lr: 0.001 },
  });

describe("memory store: consolidations", () => {
  it("runs one at a time: a second start is a ConsolidationBusyError naming the running one", () => {
    const store = tempStore();
    const ids = addDocs(store, "first text", "second text");
    const first = start(store, ids);
    assert.equal(first.state, "running");
    assert.equal(first.phase, "self-edits");
    assert.deepEqual(first.documentIds, ids);
    assert.deepEqual(first.settings, { lr: 0.001 });
    assert.equal(first.finishedAt, null);
    assert.deepEqual(store.runningConsolidation(), first);
    assert.throws(
      () => start(store, ids),
      (error: unknown) => error instanceof ConsolidationBusyError && error.runningId === first.id,
    );
    const phased = store.updateConsolidation(first.id, { phase: "training", report: { loss: [1, 0.5] } });
    assert.equal(phased.phase, "training");
    assert.deepEqual(phased.report, { loss: [1, 0.5] });
    assert.equal(phased.finishedAt, null);
    assert.deepEqual(store.updateConsolidation(first.id, { error: undefined, report: undefined }), phased);
    const failed = store.updateConsolidation(first.id, { state: "failed", error: "out of memory" });
    assert.equal(failed.state, "failed");
    assert.equal(failed.error, "out of memory");
    assert.ok(failed.finishedAt, "a final state is stamped with finishedAt");
    assert.equal(store.runningConsolidation(), null);
    const second = start(store, ids);
    assert.deepEqual(
      store.listConsolidations().map((c) => c.id),
      [second.id, first.id],
    );
    assert.deepEqual(
      store.listConsolidations({ limit: 1 }).map((c) => c.id),
      [second.id],
    );
    assert.throws(() => store.updateConsolidation(999, { phase: "done" }), MemoryNotFoundError);
    assert.equal(store.getConsolidation(999), null);
    store.close();
  });

  it("checks the documents it is given", () => {
    const store = tempStore();
    const [id] = addDocs(store, "one");
    assert.throws(
      () => start(store, [id, "doc_missing"]),
      (error: unknown) => error instanceof MemoryInputError && error.field === "documentIds[1]",
    );
    assert.equal(store.runningConsolidation(), null);
    store.close();
  });

  it("saves self-edits per document (saving again replaces) and finds the ones a document was consolidated with", () => {
    const store = tempStore();
    const [a, b] = addDocs(store, "doc a", "doc b");
    const c1 = start(store, [a, b]);
    store.saveSelfEdits(c1.id, a, ["a1", "a2"]);
    store.saveSelfEdits(c1.id, b, ["b1"]);
    store.saveSelfEdits(c1.id, a, ["a3"]);
    assert.deepEqual(
      store.selfEditsOf(c1.id),
      new Map([
        [b, ["b1"]],
        [a, ["a3"]],
      ]),
    );
    assert.deepEqual(store.consolidatedSelfEdits(a), [], "not promoted yet");
    const v1 = store.createVersion({
      consolidationId: c1.id,
      parentId: null,
      adapterPath: "adapters/c1",
      status: "active",
      reason: null,
      documentIds: [a, b],
    });
    assert.equal(store.getConsolidation(c1.id)!.versionId, v1.id, "the version is recorded on its consolidation");
    store.updateConsolidation(c1.id, { state: "promoted", phase: "done" });
    assert.deepEqual(store.consolidatedSelfEdits(a), ["a3"]);
    assert.deepEqual(store.consolidatedSelfEdits(b), ["b1"]);
    // A later consolidation that writes self-edits for `a` again does not change what `a` was consolidated with.
    const c2 = start(store, [a], v1.id);
    store.saveSelfEdits(c2.id, a, ["later"]);
    store.updateConsolidation(c2.id, { state: "promoted" });
    assert.deepEqual(store.consolidatedSelfEdits(a), ["a3"]);
    assert.throws(() => store.saveSelfEdits(999, a, ["x"]), MemoryNotFoundError);
    assert.throws(() => store.saveSelfEdits(c1.id, "doc_missing", ["x"]), MemoryNotFoundError);
    store.close();
  });
});

describe("memory store: versions", () => {
  it("createVersion active: the previous active becomes inactive, its pending documents consolidated", () => {
    const store = tempStore();
    const [a, b, c] = addDocs(store, "doc a", "doc b", "doc c");
    assert.equal(store.activeVersion(), null, "no version: the base model");
    const v1 = store.createVersion({
      consolidationId: null,
      parentId: null,
      adapterPath: "adapters/c1",
      status: "active",
      reason: null,
      documentIds: [a],
    });
    assert.equal(v1.status, "active");
    assert.ok(v1.activatedAt);
    assert.deepEqual(states(store, [a, b, c]), ["consolidated", "pending", "pending"]);
    assert.equal(store.getDocument(a)!.consolidatedIn, v1.id);
    store.forgetDocument(b); // forgotten while the next consolidation runs: stays forgotten
    const v2 = store.createVersion({
      consolidationId: null,
      parentId: v1.id,
      adapterPath: "adapters/c2",
      status: "active",
      reason: null,
      documentIds: [a, b, c, a], // listed twice: held once
    });
    assert.equal(store.getVersion(v1.id)!.status, "inactive");
    assert.equal(store.activeVersion()!.id, v2.id);
    assert.deepEqual(states(store, [a, b, c]), ["consolidated", "forgotten", "consolidated"]);
    assert.equal(store.getDocument(a)!.consolidatedIn, v1.id, "the version that first held it");
    assert.equal(store.getDocument(c)!.consolidatedIn, v2.id);
    assert.deepEqual(store.countDocuments(), { pending: 0, consolidated: 2, forgotten: 1 });
    assert.deepEqual(
      store.listVersions().map((v) => [v.id, v.status, v.parentId, v.documentIds]),
      [
        [v2.id, "active", v1.id, [a, b, c]],
        [v1.id, "inactive", null, [a]],
      ],
    );
    store.close();
  });

  it("a rejected version changes nothing and is activated only with force", () => {
    const store = tempStore();
    const [a, b] = addDocs(store, "doc a", "doc b");
    const v1 = store.createVersion({
      consolidationId: null,
      parentId: null,
      adapterPath: "adapters/c1",
      status: "active",
      reason: null,
      documentIds: [a],
    });
    const rejected = store.createVersion({
      consolidationId: null,
      parentId: v1.id,
      adapterPath: "adapters/c2",
      status: "rejected",
      reason: "new-doc accuracy did not rise",
      documentIds: [a, b],
    });
    assert.equal(rejected.status, "rejected");
    assert.equal(rejected.activatedAt, null);
    assert.equal(store.activeVersion()!.id, v1.id);
    assert.deepEqual(states(store, [a, b]), ["consolidated", "pending"]);
    assert.throws(
      () => store.activateVersion(rejected.id),
      (error: unknown) => error instanceof VersionRejectedError && /new-doc accuracy did not rise/.test(error.message),
    );
    assert.deepEqual(states(store, [a, b]), ["consolidated", "pending"]);
    const forced = store.activateVersion(rejected.id, { force: true });
    assert.equal(forced.status, "active");
    assert.equal(store.getVersion(v1.id)!.status, "inactive");
    assert.deepEqual(states(store, [a, b]), ["consolidated", "consolidated"]);
    assert.throws(() => store.activateVersion(999), MemoryNotFoundError);
    assert.throws(
      () =>
        store.createVersion({
          consolidationId: null,
          parentId: null,
          adapterPath: null,
          status: "active",
          reason: null,
          documentIds: ["doc_missing"],
        }),
      (error: unknown) => error instanceof MemoryInputError && error.field === "documentIds[0]",
    );
    assert.equal(store.activeVersion()!.id, rejected.id, "a refused createVersion changed nothing");
    store.close();
  });

  it("rollback: documents only in later versions become pending (retrievable) again; roll forward undoes it", () => {
    const store = tempStore();
    const [a, b, c, d] = addDocs(store, "alpha facts", "beta facts", "gamma facts", "delta facts");
    const version = (parentId: number | null, documentIds: string[]) =>
      store.createVersion({
        consolidationId: null,
        parentId,
        adapterPath: `adapters/v${documentIds.length}`,
        status: "active",
        reason: null,
        documentIds,
      });
    const v1 = version(null, [a]);
    const v2 = version(v1.id, [a, b]);
    const v3 = version(v2.id, [a, b, c]);
    store.forgetDocument(b);
    assert.deepEqual(states(store, [a, b, c, d]), ["consolidated", "forgotten", "consolidated", "pending"]);

    const back = store.activateVersion(v1.id);
    assert.equal(back.status, "active");
    assert.deepEqual(
      store.listVersions().map((v) => v.status),
      ["inactive", "inactive", "active"],
    );
    assert.deepEqual(states(store, [a, b, c, d]), ["consolidated", "forgotten", "pending", "pending"]);
    assert.equal(store.getDocument(c)!.consolidatedIn, null);
    assert.deepEqual(
      store
        .search("facts", { states: ["pending"], limit: 10 })
        .map((hit) => hit.document.id)
        .sort(),
      [c, d].sort(),
      "retrieval covers the rolled-back document again, never the forgotten one",
    );

    store.activateVersion(v3.id);
    assert.deepEqual(states(store, [a, b, c, d]), ["consolidated", "forgotten", "consolidated", "pending"]);
    assert.equal(store.getDocument(c)!.consolidatedIn, v3.id);
    assert.equal(store.activateVersion(v3.id).status, "active", "activating the active version is a no-op");
    assert.deepEqual(states(store, [a, b, c, d]), ["consolidated", "forgotten", "consolidated", "pending"]);

    // Back to the base model: a version with no adapter and no documents.
    const base = store.createVersion({
      consolidationId: null,
      parentId: null,
      adapterPath: null,
      status: "active",
      reason: "rollback to the base model",
      documentIds: [],
    });
    assert.equal(store.activeVersion()!.adapterPath, null);
    assert.equal(store.activeVersion()!.id, base.id);
    assert.deepEqual(states(store, [a, b, c, d]), ["pending", "forgotten", "pending", "pending"]);
    assert.deepEqual(store.countDocuments(), { pending: 3, consolidated: 0, forgotten: 1 });

    // From the base model, a new lineage consolidates `a` again: consolidatedIn names the new version, and after a
    // rollback to v1 the earliest version of v1's lineage (v1 itself), not the now inactive one.
    const v5 = version(base.id, [a]);
    assert.equal(store.getDocument(a)!.consolidatedIn, v5.id);
    store.activateVersion(v2.id);
    assert.deepEqual(states(store, [a, b, c, d]), ["consolidated", "forgotten", "pending", "pending"]);
    assert.equal(store.getDocument(a)!.consolidatedIn, v1.id);
    store.close();
  });

  it("evaluations round-trip; saving one again replaces it", () => {
    const store = tempStore();
    const [a, b] = addDocs(store, "doc a", "doc b");
    const v1 = store.createVersion({
      consolidationId: null,
      parentId: null,
      adapterPath: "adapters/c1",
      status: "rejected",
      reason: "test",
      documentIds: [a, b],
    });
    const rows: ProbeEvaluation[] = [
      {
        versionId: v1.id,
        documentId: a,
        group: "new",
        phase: "before",
        question: "Q?",
        answer: "A",
        prediction: "no idea",
        correct: false,
      },
      {
        versionId: v1.id,
        documentId: a,
        group: "new",
        phase: "after",
        question: "Q?",
        answer: "A",
        prediction: "A",
        correct: true,
      },
      {
        versionId: v1.id,
        documentId: b,
        group: "earlier",
        phase: "after",
        question: 'Q2? "quoted" ünïcode',
        answer: "B",
        prediction: "",
        correct: false,
      },
    ];
    store.saveEvaluations(rows);
    assert.deepEqual(store.evaluationsOf(v1.id), rows);
    store.saveEvaluations([{ ...rows[2], prediction: "B", correct: true }]);
    assert.deepEqual(store.evaluationsOf(v1.id), [...rows.slice(0, 2), { ...rows[2], prediction: "B", correct: true }]);
    assert.deepEqual(store.evaluationsOf(v1.id + 1), []);
    store.close();
  });
});
