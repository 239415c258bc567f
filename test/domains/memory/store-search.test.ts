import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ftsMatchQuery, MAX_QUERY_TERMS } from "../../../src/domains/memory/fts-query.js";
import { tempStore } from "./store-fixtures.js";

describe("FTS5 query building", () => {
  it("quotes each word, ORs them, drops duplicates, punctuation and function words", () => {
    assert.equal(ftsMatchQuery('Where is "Zanzibar" now?'), '"Zanzibar" OR "now"');
    // function words are dropped, unless they are all there is
    assert.equal(ftsMatchQuery("Where was it?"), '"Where" OR "was" OR "it"');
    assert.equal(ftsMatchQuery("x x X b"), '"x" OR "b"');
    assert.equal(ftsMatchQuery("NEAR(x y) AND NOT z*"), '"NEAR" OR "x" OR "y" OR "NOT" OR "z"');
    for (const empty of ["", "   ", '"', "***", "-- () ^ : +", "🙂🙂"]) assert.equal(ftsMatchQuery(empty), null, empty);
    const many = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    assert.equal(ftsMatchQuery(many)!.split(" OR ").length, MAX_QUERY_TERMS);
  });
});

describe("memory store: search", () => {
  it("ranks by BM25 (score = -bm25, best first) over title and text, only in the requested states", () => {
    const store = tempStore();
    const volcano = store.addDocument({ text: "Volcanoes erupt lava. Lava cools into basalt. Volcano lava lava." });
    const ocean = store.addDocument({ text: "The ocean is deep and the ocean is salty; lava sometimes meets it." });
    const titled = store.addDocument({ text: "Nothing about it in the body.", title: "Basalt columns" });
    const hits = store.search("lava", { states: ["pending"], limit: 10 });
    assert.deepEqual(
      hits.map((h) => h.document.id),
      [volcano.document.id, ocean.document.id],
    );
    assert.ok(hits[0].score > hits[1].score && hits[1].score > 0, JSON.stringify(hits.map((h) => h.score)));
    // The title counts: "basalt" finds the titled document and the one that says it in its text.
    assert.deepEqual(
      store
        .search("basalt", { states: ["pending"], limit: 10 })
        .map((h) => h.document.id)
        .sort(),
      [titled.document.id, volcano.document.id].sort(),
    );
    assert.equal(store.search("lava", { states: ["pending"], limit: 1 }).length, 1);
    assert.deepEqual(store.search("lava", { states: ["consolidated"], limit: 10 }), []);
    assert.deepEqual(store.search("lava", { states: [], limit: 10 }), []);
    assert.deepEqual(store.search("lava", { states: ["pending"], limit: 0 }), []);
    store.close();
  });

  it("treats hostile queries as plain words: no FTS5 syntax error, no match-all", () => {
    const store = tempStore();
    const doc = store.addDocument({ text: 'He said "NEAR" the café, not far: x-ray* and OR AND.' }).document;
    store.addDocument({ text: "Unrelated sentence about gardens." });
    const hostile = [
      '"',
      '""',
      '"unterminated',
      "NEAR(",
      "NEAR(a b, 2)",
      "*",
      "x*",
      "-",
      "-gardens",
      "title:gardens",
      "^gardens",
      "AND",
      "OR OR OR",
      "NOT",
      "(",
      ")",
      "{title text}: x",
      "'; DROP TABLE documents; --",
      "\u0000",
      "\u0301",
      "\u200b",
      "x\u0000y",
      "１２３",
      "😀",
      "",
      " ",
    ];
    for (const query of hostile) {
      const hits = store.search(query, { states: ["pending"], limit: 10 });
      for (const hit of hits) assert.ok(Number.isFinite(hit.score), query);
      assert.ok(hits.length <= 1 || query.includes("gardens"), `${query}: ${hits.length}`);
    }
    assert.deepEqual(store.search("", { states: ["pending"], limit: 10 }), []);
    assert.deepEqual(store.search("?!.,", { states: ["pending"], limit: 10 }), []);
    assert.equal(store.search('"NEAR"', { states: ["pending"], limit: 10 })[0].document.id, doc.id);
    assert.equal(store.search("x-ray", { states: ["pending"], limit: 10 })[0].document.id, doc.id);
    // Diacritics are folded both ways (unicode61 remove_diacritics).
    assert.equal(store.search("cafe", { states: ["pending"], limit: 10 })[0].document.id, doc.id);
    assert.equal(store.search("CAFÉ", { states: ["pending"], limit: 10 })[0].document.id, doc.id);
    assert.equal(store.listDocuments().length, 2);
    store.close();
  });

  it("finds non-Latin words", () => {
    const store = tempStore();
    const greek = store.addDocument({ text: "Η Αθήνα είναι η πρωτεύουσα." }).document;
    const russian = store.addDocument({ text: "Москва — столица России." }).document;
    assert.equal(store.search("αθήνα;", { states: ["pending"], limit: 10 })[0].document.id, greek.id);
    assert.equal(store.search("«Москва»", { states: ["pending"], limit: 10 })[0].document.id, russian.id);
    store.close();
  });
});
