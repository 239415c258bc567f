import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contentHashOf } from "../../../src/domains/memory/document-input.js";
import { MemoryInputError, MemoryNotFoundError } from "../../../src/domains/memory/errors.js";
import { tempStore } from "./store-fixtures.js";

describe("memory store: documents", () => {
  it("adds a document once per text: the same text returns the existing one with created = false", () => {
    const store = tempStore();
    const text = "The Lost Lands lie beyond the Grey Mountains.";
    const first = store.addDocument({ text, title: "Lost Lands", metadata: { tag: 1 } });
    assert.equal(first.created, true);
    assert.equal(first.document.id, `doc_${contentHashOf(text).slice(0, 16)}`);
    assert.equal(first.document.contentHash, contentHashOf(text));
    assert.equal(first.document.state, "pending");
    assert.equal(first.document.kind, "document");
    assert.deepEqual(first.document.metadata, { tag: 1 });
    const second = store.addDocument({ text, title: "Another title" });
    assert.equal(second.created, false);
    assert.deepEqual(second.document, first.document);
    assert.equal(store.listDocuments().length, 1);
    // A different text (even by one space) is another document.
    assert.equal(store.addDocument({ text: `${text} ` }).created, true);
    store.close();
  });

  it("derives the title from the source, else from the text's first words; keeps given probes", () => {
    const store = tempStore();
    const fromSource = store.addDocument({ text: "alpha beta", source: "notes.txt" }).document;
    assert.equal(fromSource.title, "notes.txt");
    assert.equal(fromSource.source, "notes.txt");
    const long = store.addDocument({ text: "one two three four five six seven eight nine ten" }).document;
    assert.equal(long.title, "one two three four five six seven eight…");
    const short = store.addDocument({
      text: "short text",
      kind: "experience",
      probes: [{ question: "What?", answer: "short" }],
    }).document;
    assert.equal(short.title, "short text");
    assert.equal(short.kind, "experience");
    assert.equal(short.source, null);
    assert.deepEqual(short.probes, [{ question: "What?", answer: "short", origin: "given" }]);
    store.close();
  });

  it("rejects bad input with a MemoryInputError naming the field", () => {
    const store = tempStore();
    const cases: Array<[unknown, string]> = [
      [{ text: "" }, "text"],
      [{ text: "  \n " }, "text"],
      [{ text: "x".repeat(1024 * 1024 + 1) }, "text"],
      [{ text: "é".repeat(600 * 1024) }, "text"], // 1.2 MB of UTF-8 in 600 K characters
      [{ text: "ok", title: "" }, "title"],
      [{ text: "ok", probes: [{ question: "", answer: "a" }] }, "probes[0].question"],
      [{ text: "ok", probes: [{ question: "q", answer: "a" }, { question: "q" }] }, "probes[1].answer"],
      [{ text: "ok", kind: "other" }, "kind"],
      [{ text: 42 }, "text"],
    ];
    for (const [input, field] of cases) {
      assert.throws(
        () => store.addDocument(input as never),
        (error: unknown) => error instanceof MemoryInputError && error.field === field,
        field,
      );
    }
    assert.equal(store.countDocuments().pending, 0);
    const id = store.addDocument({ text: "ok" }).document.id;
    assert.throws(
      () => store.setProbes(id, [{ question: " ", answer: "a", origin: "generated" }]),
      (error: unknown) => error instanceof MemoryInputError && error.field === "probes[0].question",
    );
    assert.throws(() => store.setProbes("doc_nope", []), MemoryNotFoundError);
    store.close();
  });

  it("replaces probes with setProbes", () => {
    const store = tempStore();
    const id = store.addDocument({ text: "a text", probes: [{ question: "q1", answer: "a1" }] }).document.id;
    store.setProbes(id, [
      { question: "q2", answer: "a2", origin: "generated" },
      { question: "q3", answer: "a3", origin: "given" },
    ]);
    assert.deepEqual(store.getDocument(id)!.probes, [
      { question: "q2", answer: "a2", origin: "generated" },
      { question: "q3", answer: "a3", origin: "given" },
    ]);
    store.close();
  });

  it("lists with filters, limit, offset and order; counts per state", () => {
    const store = tempStore();
    const ids = ["a", "b", "c", "d"].map(
      (t, i) => store.addDocument({ text: `text ${t}`, kind: i % 2 === 0 ? "document" : "experience" }).document.id,
    );
    store.forgetDocument(ids[1]);
    assert.deepEqual(
      store.listDocuments().map((d) => d.id),
      ids,
    );
    assert.deepEqual(
      store.listDocuments({ order: "newest" }).map((d) => d.id),
      [...ids].reverse(),
    );
    assert.deepEqual(
      store.listDocuments({ state: "pending" }).map((d) => d.id),
      [ids[0], ids[2], ids[3]],
    );
    assert.deepEqual(
      store.listDocuments({ kind: "experience" }).map((d) => d.id),
      [ids[1], ids[3]],
    );
    assert.deepEqual(
      store.listDocuments({ state: "pending", kind: "experience" }).map((d) => d.id),
      [ids[3]],
    );
    assert.deepEqual(
      store.listDocuments({ limit: 2, offset: 1 }).map((d) => d.id),
      [ids[1], ids[2]],
    );
    assert.deepEqual(store.listDocuments({ limit: 0 }), []);
    assert.deepEqual(store.countDocuments(), { pending: 3, consolidated: 0, forgotten: 1 });
    assert.throws(
      () => store.listDocuments({ limit: -1 }),
      (e: unknown) => e instanceof MemoryInputError && e.field === "limit",
    );
    assert.throws(
      () => store.listDocuments({ offset: 1.5 }),
      (e: unknown) => e instanceof MemoryInputError && e.field === "offset",
    );
    store.close();
  });

  it("forgets: out of search at once, unknown ids give null, forgetting twice keeps the first time", () => {
    const store = tempStore();
    const { document } = store.addDocument({ text: "Zanzibar cloves are harvested in the dry season." });
    assert.equal(store.search("zanzibar", { states: ["pending"], limit: 5 }).length, 1);
    const forgotten = store.forgetDocument(document.id)!;
    assert.equal(forgotten.state, "forgotten");
    assert.ok(forgotten.forgottenAt);
    assert.deepEqual(store.search("zanzibar", { states: ["pending", "consolidated", "forgotten"], limit: 5 }), []);
    assert.equal(store.forgetDocument(document.id)!.forgottenAt, forgotten.forgottenAt);
    assert.equal(store.forgetDocument("doc_0000000000000000"), null);
    assert.equal(store.getDocument("doc_0000000000000000"), null);
    store.close();
  });

  it("adding a forgotten text again makes it pending again (created = true, the new call's fields)", () => {
    const store = tempStore();
    const text = "Re-added text.";
    const { document } = store.addDocument({ text, title: "old", probes: [{ question: "q", answer: "a" }] });
    store.forgetDocument(document.id);
    const again = store.addDocument({ text, title: "new" });
    assert.equal(again.created, true);
    assert.equal(again.document.id, document.id);
    assert.equal(again.document.state, "pending");
    assert.equal(again.document.forgottenAt, null);
    assert.equal(again.document.title, "new");
    assert.deepEqual(again.document.probes, []);
    assert.equal(store.search("added", { states: ["pending"], limit: 5 })[0].document.id, document.id);
    assert.deepEqual(store.countDocuments(), { pending: 1, consolidated: 0, forgotten: 0 });
    store.close();
  });
});
