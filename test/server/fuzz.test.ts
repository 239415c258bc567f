/**
 * Fuzzing the routes: a few hundred random and hostile requests (methods, paths, headers, bodies, mutated valid
 * bodies). Every answer must be a 2xx or 4xx — JSON (or an event stream for a valid streamed request) — never a
 * 5xx, and the server must still answer correctly afterwards.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openAiError, startTestServer, type TestServer } from "./test-server.js";

/** A small deterministic generator (xorshift32), so a failure replays with its seed. */
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "\ud800",
  "💥".repeat(50),
  "a".repeat(5000),
  '"; DROP TABLE documents; --',
  "' OR 1=1 --",
  'NEAR(a b) * ^ " OR AND NOT',
  "../../etc/passwd",
  "%00%2e%2e%2f",
  "<script>alert(1)</script>",
  "{{7*7}}",
  "$" + "{process.exit()}",
  "\r\n\r\nGET / HTTP/1.1",
  "__proto__",
  "constructor",
];
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  -1e308,
  2 ** 53,
  0.5,
  Number.MAX_SAFE_INTEGER,
  [],
  {},
  [[[[[]]]]],
  { __proto__: { admin: true } },
  ...HOSTILE_STRINGS,
];
const PATHS = [
  "/health",
  "/v1/models",
  "/v1/models/seal-mini",
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/memory/documents",
  "/v1/memory/documents/doc_0000000000000000",
  "/v1/memory/search",
  "/v1/memory/consolidate",
  "/v1/memory/consolidations",
  "/v1/memory/consolidations/1",
  "/v1/memory/versions",
  "/v1/memory/versions/1/activate",
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=zz",
  "application/octet-stream",
  ";;;",
];
const VALID_BODIES: Record<string, unknown> = {
  "/v1/chat/completions": {
    model: "seal-mini",
    messages: [{ role: "user", content: "Where was Khotux born?" }],
    max_tokens: 4,
    stream: false,
  },
  "/v1/completions": { model: "seal-mini", prompt: "Khotux", max_tokens: 4, n: 2, stop: ["\n"] },
  "/v1/memory/documents": { text: "Fuzzed fact.", title: "Fuzz", probes: [{ question: "q?", answer: "a" }] },
  "/v1/memory/consolidate": { rebuild: false },
};

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

/** A valid body with one field replaced, removed, or nested wrongly. */
function mutate(random: () => number, value: unknown, depth = 0): unknown {
  if (depth > 3 || value === null || typeof value !== "object")
    return random() < 0.5 ? pick(random, HOSTILE_VALUES) : value;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...(value as object) };
  const keys = Object.keys(copy);
  const roll = random();
  if (keys.length > 0 && roll < 0.3) delete copy[pick(random, keys)];
  else if (keys.length > 0 && roll < 0.8) {
    const key = pick(random, keys);
    copy[key] = mutate(random, copy[key], depth + 1);
  } else
    copy[pick(random, ["stream", "n", "seed", "extra", "seal", "temperature", "__proto__"])] = pick(
      random,
      HOSTILE_VALUES,
    );
  return copy;
}

function randomPath(random: () => number): string {
  const base = pick(random, PATHS);
  const roll = random();
  if (roll < 0.55) return base;
  if (roll < 0.7) return `${base}/${encodeURIComponent(pick(random, HOSTILE_STRINGS)).slice(0, 300)}`;
  if (roll < 0.8)
    return `${base}?${pick(random, ["state=x", "limit=-1", "limit=1e99", "q=", "q=%FF", "offset=NaN", "state=pending&state=consolidated", `q=${"b".repeat(3000)}`])}`;
  if (roll < 0.9)
    return pick(random, [
      "/%",
      "/%zz",
      "//v1//models",
      "/v1/memory/documents/%E0%A4%A",
      "/v1/../../etc/passwd",
      "/v1/memory/versions/-1/activate",
      "/v1/memory/versions/99999999999999999999/activate",
    ]);
  return `/${Array.from({ length: 1 + Math.floor(random() * 4) }, () => Math.floor(random() * 1e6).toString(36)).join("/")}`;
}

function randomBody(random: () => number, path: string): string | undefined {
  const roll = random();
  const valid = VALID_BODIES[path.split("?")[0]];
  if (roll < 0.15) return undefined;
  if (roll < 0.55 && valid !== undefined) return JSON.stringify(mutate(random, valid));
  if (roll < 0.65)
    return pick(random, ["{", "[", '{"a":}', "nul", '{"__proto__": {"x": 1}}', "\u0000", "{}".repeat(1000)]);
  if (roll < 0.75)
    return JSON.stringify(
      "["
        .repeat(200)
        .split("")
        .reduce<unknown>((inner) => [inner], 1),
    );
  return JSON.stringify(pick(random, HOSTILE_VALUES));
}

describe("fuzzing the routes", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxTokens: 8, bodyLimit: 64 * 1024 });
  });
  after(async () => {
    await server?.close();
  });

  test("300 random and hostile requests: no 5xx, every answer JSON (or an event stream)", async () => {
    const random = rng(20261205);
    for (let i = 0; i < 300; i++) {
      const method = pick(random, METHODS);
      const path = randomPath(random);
      const body = method === "GET" || method === "HEAD" ? undefined : randomBody(random, path);
      const headers: Record<string, string> = {};
      if (body !== undefined || random() < 0.2)
        headers["content-type"] = random() < 0.75 ? "application/json" : pick(random, CONTENT_TYPES);
      if (random() < 0.2)
        headers.authorization = `Bearer ${pick(random, HOSTILE_STRINGS).replace(/[^\x21-\x7e]/g, "")}`;
      if (random() < 0.1) headers.accept = "text/event-stream";
      const what = `#${i} ${method} ${path.slice(0, 120)} ${String(body).slice(0, 200)}`;
      const response = await fetch(server.baseUrl + path, { method, headers, body });
      const text = await response.text();
      assert.ok(response.status < 500, `${what} → ${response.status} ${text.slice(0, 300)}`);
      if (method === "HEAD") continue;
      const type = response.headers.get("content-type") ?? "";
      if (type.startsWith("text/event-stream")) {
        assert.ok(response.status === 200 && text.endsWith("data: [DONE]\n\n"), `${what} → ${text.slice(-200)}`);
        continue;
      }
      assert.match(type, /^application\/json/, what);
      const parsed = JSON.parse(text);
      if (response.status >= 400) openAiError(parsed);
    }
    assert.deepEqual(server.errors, []);
  });

  test("the server is healthy afterwards", async () => {
    const health = await fetch(`${server.baseUrl}/health`);
    assert.equal(health.status, 200);
    const completion = await server.client().chat.completions.create({
      model: "seal-mini",
      messages: [{ role: "user", content: "Where was Khotux born?" }],
      max_tokens: 4,
    });
    assert.equal(completion.choices.length, 1);
  });
});
