/** The memory API: documents in and out, retrieval into prompts, remembered exchanges, versions and activation. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fetchJson, openAiError, startTestServer, type TestServer } from "./test-server.js";

const ZEPHYR = {
  text: "Quorvane Tillisk was born in 1911 in Maresholm. Tillisk worked at the Brightwater Observatory.",
  title: "Quorvane Tillisk",
  source: "test",
  metadata: { batch: 1 },
  probes: [{ question: "Where was Quorvane Tillisk born?", answer: "Maresholm" }],
};
const OTHER = { text: "The Feldmark Bridge over the river Alsen opened in 1932 and carries a railway." };

describe("memory routes", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  test("POST /v1/memory/documents: 201 created, then 200 with the same document (idempotent by content)", async () => {
    const first = await fetchJson(server, "/v1/memory/documents", { method: "POST", body: ZEPHYR });
    assert.equal(first.status, 201);
    assert.equal(first.body.created, true);
    const document = first.body.document;
    assert.match(document.id, /^doc_[0-9a-f]{16}$/);
    assert.equal(document.state, "pending");
    assert.equal(document.title, "Quorvane Tillisk");
    assert.deepEqual(document.metadata, { batch: 1 });
    assert.equal(document.probes[0].answer, "Maresholm");
    const again = await fetchJson(server, "/v1/memory/documents", { method: "POST", body: ZEPHYR });
    assert.equal(again.status, 200);
    assert.equal(again.body.created, false);
    assert.equal(again.body.document.id, document.id);
    const got = await fetchJson(server, `/v1/memory/documents/${document.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.text, ZEPHYR.text);
  });

  test("bad documents: 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{}, "text"],
      [{ text: "   " }, "text"],
      [{ text: 5 }, "text"],
      [{ text: "a fact", probes: [{ question: "q?" }] }, "probes.0.answer"],
      [{ text: "a fact", metadata: [1, 2] }, "metadata"],
      [{ text: "a fact", colour: "blue" }, ""],
    ];
    for (const [body, field] of cases) {
      const answer = await fetchJson(server, "/v1/memory/documents", { method: "POST", body });
      assert.equal(answer.status, 400, JSON.stringify(body));
      const error = openAiError(answer.body);
      assert.equal(error.type, "invalid_request_error");
      if (field !== "") assert.equal(error.param, field, JSON.stringify(answer.body));
      else assert.match(error.message, /colour/);
    }
  });

  test("GET /v1/memory/documents filters by state and kind, with counts", async () => {
    await fetchJson(server, "/v1/memory/documents", { method: "POST", body: OTHER });
    const pending = await fetchJson(server, "/v1/memory/documents?state=pending");
    assert.equal(pending.status, 200);
    assert.equal(pending.body.object, "list");
    assert.ok(pending.body.data.length >= 2);
    assert.ok(pending.body.data.every((d: { state: string }) => d.state === "pending"));
    assert.ok(pending.body.counts.pending >= 2);
    const consolidated = await fetchJson(server, "/v1/memory/documents?state=consolidated");
    assert.deepEqual(consolidated.body.data, []);
    const experiences = await fetchJson(server, "/v1/memory/documents?kind=experience");
    assert.ok(experiences.body.data.every((d: { kind: string }) => d.kind === "experience"));
    const limited = await fetchJson(server, "/v1/memory/documents?limit=1");
    assert.equal(limited.body.data.length, 1);
    const bad = await fetchJson(server, "/v1/memory/documents?state=lost");
    assert.equal(bad.status, 400);
    assert.equal(openAiError(bad.body).param, "state");
    const badLimit = await fetchJson(server, "/v1/memory/documents?limit=-3");
    assert.equal(openAiError(badLimit.body).param, "limit");
  });

  test("retrieval puts a pending document into the prompt; 'none' keeps it out", async () => {
    const { document } = (await fetchJson(server, "/v1/memory/documents", { method: "POST", body: ZEPHYR })).body;
    const ask = (retrieval?: string) =>
      fetchJson(server, "/v1/chat/completions", {
        method: "POST",
        body: {
          model: "seal-mini",
          messages: [{ role: "user", content: "Where was Quorvane Tillisk born?" }],
          max_tokens: 4,
          ...(retrieval === undefined ? {} : { seal: { retrieval } }),
        },
      });
    const retrieved = await ask();
    assert.equal(retrieved.status, 200);
    assert.equal(retrieved.body.seal.retrieved[0], document.id);
    assert.equal(retrieved.body.seal.adapter_version, null);
    // The retrieved passage is in the prompt: the prompt is longer than without it.
    const none = await ask("none");
    assert.deepEqual(none.body.seal.retrieved, []);
    assert.ok(retrieved.body.usage.prompt_tokens > none.body.usage.prompt_tokens + 10);
    const completion = await fetchJson(server, "/v1/completions", {
      method: "POST",
      body: { prompt: "Quorvane Tillisk was born in", max_tokens: 2 },
    });
    assert.deepEqual(completion.body.seal.retrieved, [document.id]);
  });

  test("search finds documents by BM25", async () => {
    const found = await fetchJson(server, "/v1/memory/search?q=Feldmark%20railway");
    assert.equal(found.status, 200);
    assert.equal(found.body.data[0].document.text, OTHER.text);
    assert.equal(typeof found.body.data[0].score, "number");
    const hostile = await fetchJson(server, `/v1/memory/search?q=${encodeURIComponent('"NEAR( * OR ) -')}`);
    assert.equal(hostile.status, 200);
    const missing = await fetchJson(server, "/v1/memory/search");
    assert.equal(openAiError(missing.body).param, "q");
  });

  test("DELETE forgets: the document is no longer retrieved, and a second delete still finds it forgotten", async () => {
    const { document } = (await fetchJson(server, "/v1/memory/documents", { method: "POST", body: OTHER })).body;
    const forgotten = await fetchJson(server, `/v1/memory/documents/${document.id}`, { method: "DELETE" });
    assert.equal(forgotten.status, 200);
    assert.equal(forgotten.body.state, "forgotten");
    assert.ok(forgotten.body.forgottenAt !== null);
    const answer = await fetchJson(server, "/v1/chat/completions", {
      method: "POST",
      body: { messages: [{ role: "user", content: "When did the Feldmark Bridge open?" }], max_tokens: 2 },
    });
    assert.ok(!answer.body.seal.retrieved.includes(document.id));
    const search = await fetchJson(server, "/v1/memory/search?q=Feldmark");
    assert.ok(!search.body.data.some((r: { document: { id: string } }) => r.document.id === document.id));
    const listed = await fetchJson(server, "/v1/memory/documents?state=forgotten");
    assert.ok(listed.body.data.some((d: { id: string }) => d.id === document.id));
    const unknown = await fetchJson(server, "/v1/memory/documents/doc_0000000000000000", { method: "DELETE" });
    assert.equal(unknown.status, 404);
    assert.equal(openAiError(unknown.body).type, "not_found_error");
  });

  test("seal.remember stores the exchange as an experience document", async () => {
    const answer = await fetchJson(server, "/v1/chat/completions", {
      method: "POST",
      body: {
        messages: [{ role: "user", content: "Remember this: Ulvenrast is a small harbour town." }],
        max_tokens: 6,
        seed: 1,
        seal: { remember: true, retrieval: "none" },
      },
    });
    assert.equal(answer.status, 200);
    const id = answer.body.seal.remembered;
    if (answer.body.choices[0].message.content.trim() === "") {
      assert.equal(id, null);
      return;
    }
    const stored = await fetchJson(server, `/v1/memory/documents/${id}`);
    assert.equal(stored.body.kind, "experience");
    assert.match(stored.body.text, /Ulvenrast is a small harbour town/);
    assert.ok(stored.body.text.includes(answer.body.choices[0].message.content.trim()));
  });

  test("a streamed chat answer names the retrieved documents in its opening chunk", async () => {
    const { document } = (await fetchJson(server, "/v1/memory/documents", { method: "POST", body: ZEPHYR })).body;
    const response = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messages: [{ role: "user", content: "Where was Quorvane Tillisk born?" }],
        max_tokens: 4,
        stream: true,
        seal: { retrieval: "all" },
      }),
    });
    const events = (await response.text())
      .split("\n\n")
      .filter((event) => event.startsWith("data: ") && !event.includes("[DONE]"))
      .map((event) => JSON.parse(event.slice("data: ".length)));
    assert.equal(events[0].choices[0].delta.role, "assistant");
    assert.equal(events[0].seal.retrieved[0], document.id);
  });

  test("consolidation routes: start (202), 409 while one runs, history, versions, activate, 404s", async () => {
    const started = await fetchJson(server, "/v1/memory/consolidate", { method: "POST", body: {} });
    assert.equal(started.status, 202);
    assert.equal(started.body.consolidation.state, "running");
    const busy = await fetchJson(server, "/v1/memory/consolidate", { method: "POST" });
    assert.equal(busy.status, 409);
    assert.equal(openAiError(busy.body).type, "conflict_error");
    const history = await fetchJson(server, "/v1/memory/consolidations");
    assert.equal(history.body.running, started.body.consolidation.id);
    const one = await fetchJson(server, `/v1/memory/consolidations/${started.body.consolidation.id}`);
    assert.equal(one.body.id, started.body.consolidation.id);
    const health = await fetchJson(server, "/health");
    assert.equal(health.body.consolidating, true);
    // The real consolidation (small settings) trains in its worker; serving goes on meanwhile.
    const id = started.body.consolidation.id;
    let finished = one.body;
    for (let i = 0; i < 300 && finished.state === "running"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      finished = (await fetchJson(server, `/v1/memory/consolidations/${id}`)).body;
    }
    assert.ok(["promoted", "rejected"].includes(finished.state), JSON.stringify(finished));
    assert.equal(typeof finished.report.gate.reason, "string");
    assert.equal((await fetchJson(server, "/health")).body.consolidating, false);
    const versions = await fetchJson(server, "/v1/memory/versions");
    assert.equal(versions.body.data.length, 1);
    assert.ok(versions.body.data.every((v: { evaluation: unknown }) => typeof v.evaluation === "object"));
    const version = versions.body.data[0];
    assert.equal(version.id, finished.versionId);
    if (finished.state === "promoted") {
      assert.equal(versions.body.active, version.id);
      const consolidated = await fetchJson(server, "/v1/memory/documents?state=consolidated");
      assert.ok(consolidated.body.data.length >= 1, "the active version's documents are consolidated");
    } else {
      const refused = await fetchJson(server, `/v1/memory/versions/${version.id}/activate`, { method: "POST" });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
    }
    const activated = await fetchJson(server, `/v1/memory/versions/${version.id}/activate`, {
      method: "POST",
      body: { force: true },
    });
    assert.equal(activated.status, 200, JSON.stringify(activated.body));
    assert.equal(activated.body.status, "active");
    assert.equal(server.generation.stats().adapter, `${server.dataDir}/${version.adapterPath}`);
    const missing = await fetchJson(server, "/v1/memory/versions/999/activate", { method: "POST" });
    assert.equal(missing.status, 404);
    const badId = await fetchJson(server, "/v1/memory/consolidations/abc");
    assert.equal(badId.status, 400);
    assert.equal(openAiError(badId.body).param, "id");
    assert.deepEqual(server.errors, []);
  });
});
