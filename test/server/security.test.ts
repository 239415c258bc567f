/** Auth, the request queue's 429, the body limit's 413, and malformed HTTP: all answered in OpenAI's shape. */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { fetchJson, openAiError, startTestServer, type TestServer } from "./test-server.js";

const KEY = "sk-test-0123456789";

describe("API key", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ apiKey: KEY });
  });
  after(async () => {
    await server?.close();
  });

  test("401 without a key and with a wrong one, on every private route", async () => {
    const routes: Array<[string, string]> = [
      ["GET", "/v1/models"],
      ["POST", "/v1/chat/completions"],
      ["POST", "/v1/completions"],
      ["GET", "/v1/memory/documents"],
      ["DELETE", "/v1/memory/documents/doc_0000000000000000"],
      ["POST", "/v1/memory/consolidate"],
      ["GET", "/v1/memory/versions"],
      ["GET", "/health/"],
      ["GET", "/v1/nothing-here"],
    ];
    for (const [method, route] of routes)
      for (const authorization of [undefined, "Bearer wrong", KEY, "Basic x", "Bearer"]) {
        const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
        const answer = await fetchJson(server, route, { method, headers, body: method === "POST" ? {} : undefined });
        assert.equal(answer.status, 401, `${method} ${route} ${JSON.stringify(headers)}`);
        assert.equal(openAiError(answer.body).type, "authentication_error");
      }
  });

  test("the right key passes; /health needs none", async () => {
    const models = await fetchJson(server, "/v1/models", { apiKey: KEY });
    assert.equal(models.status, 200);
    const health = await fetchJson(server, "/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "ok");
    assert.equal(health.body.model, server.generation.modelId);
    assert.equal(typeof health.body.generation.running, "number");
  });

  test("the openai client: AuthenticationError with a wrong key, success with the right one", async () => {
    await assert.rejects(server.client({ apiKey: "nope" }).models.list(), OpenAI.AuthenticationError);
    const completion = await server
      .client({ apiKey: KEY })
      .completions.create({ model: "x", prompt: "A", max_tokens: 2 });
    assert.equal(completion.choices.length, 1);
  });
});

describe("limits", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxBatch: 1, maxQueue: 1, bodyLimit: 4096 });
  });
  after(async () => {
    await server?.close();
  });

  test("429 rate_limit_error when the queue is full; the others succeed", async () => {
    const client = server.client();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        client.completions.create({ model: "x", prompt: `Khotux ${i}`, max_tokens: 64, stop: ["never-appears"] }),
      ),
    );
    const refused = outcomes.filter((o) => o.status === "rejected");
    const served = outcomes.filter((o) => o.status === "fulfilled");
    assert.ok(refused.length >= 1, "some requests found the queue full");
    assert.ok(served.length >= 2, "one decoding and one waiting are served");
    for (const outcome of refused) {
      const error = (outcome as PromiseRejectedResult).reason;
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      assert.equal(error.status, 429);
      assert.equal(error.type, "rate_limit_error");
    }
  });

  test("a body over the limit: 413 in OpenAI's shape", async () => {
    const answer = await fetchJson(server, "/v1/memory/documents", {
      method: "POST",
      body: { text: "x".repeat(10_000) },
    });
    assert.equal(answer.status, 413);
    const error = openAiError(answer.body);
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.code, "request_too_large");
  });

  test("bad sampling parameters: 400 naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ temperature: -1 }, "temperature"],
      [{ temperature: "hot" }, "temperature"],
      [{ top_p: 0 }, "top_p"],
      [{ n: 0 }, "n"],
      [{ n: 1000 }, "n"],
      [{ max_tokens: 0 }, "max_tokens"],
      [{ max_tokens: 1e9 }, "max_tokens"],
      [{ stop: [1] }, "stop"],
      [{ stop: ["a", "b", "c", "d", "e"] }, "stop"],
      [{ messages: [] }, "messages"],
      [{ messages: [{ role: "wizard", content: "hi" }] }, "messages.0.role"],
      [{ messages: "hello" }, "messages"],
      [{ seal: { retrieval: "everything" } }, "seal.retrieval"],
      [{ logprobs: true }, "logprobs"],
    ];
    for (const [fields, param] of cases) {
      const body = { model: "x", messages: [{ role: "user", content: "hi" }], ...fields };
      const answer = await fetchJson(server, "/v1/chat/completions", { method: "POST", body });
      assert.equal(answer.status, 400, JSON.stringify(fields));
      const error = openAiError(answer.body);
      assert.equal(error.type, "invalid_request_error");
      assert.equal(error.param, param, JSON.stringify(answer.body));
    }
  });

  test("malformed JSON, wrong media type, unknown route: OpenAI-shaped 4xx", async () => {
    const badJson = await fetchJson(server, "/v1/chat/completions", { method: "POST", body: '{"messages": [' });
    assert.equal(badJson.status, 400);
    openAiError(badJson.body);
    const media = await fetchJson(server, "/v1/chat/completions", {
      method: "POST",
      body: "<xml/>",
      headers: { "content-type": "application/xml" },
    });
    assert.equal(media.status, 415);
    openAiError(media.body);
    const unknown = await fetchJson(server, "/v2/everything");
    assert.equal(unknown.status, 404);
    assert.equal(openAiError(unknown.body).type, "not_found_error");
  });

  test("malformed HTTP on a raw socket: a JSON 400, and the server lives on", async () => {
    const { port } = new URL(server.baseUrl);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () =>
        socket.write("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n"),
      );
      let text = "";
      socket.on("data", (data) => {
        text += data.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    openAiError(JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)));
    assert.equal((await fetchJson(server, "/health")).status, 200);
  });
});
