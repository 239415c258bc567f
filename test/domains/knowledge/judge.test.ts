import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import {
  ChatCompletionsJudge,
  DEFAULT_JUDGE_MODEL,
  formatJudgePrompt,
  JUDGE_PROMPT_TEMPLATE,
  JudgeRefusedError,
} from "../../../src/domains/knowledge/judge.js";

/** What the fake server does for one request path. */
type Behaviour = (request: { body: unknown; count: number; headers: http.IncomingHttpHeaders }) => {
  status: number;
  body: string;
  delayMs?: number;
};

const completion = (content: string | null): string => JSON.stringify({ choices: [{ message: { content } }] });

const behaviours: Record<string, Behaviour> = {
  "/yes/v1/chat/completions": () => ({ status: 200, body: completion("Yes.") }),
  "/no/v1/chat/completions": () => ({ status: 200, body: completion("no") }),
  "/flaky/v1/chat/completions": ({ count }) =>
    count === 1 ? { status: 500, body: "internal oops" } : { status: 200, body: completion("yes") },
  "/down/v1/chat/completions": () => ({ status: 500, body: "server is down" }),
  "/garbage/v1/chat/completions": () => ({ status: 200, body: "<html>not json</html>" }),
  "/wrong-shape/v1/chat/completions": () => ({ status: 200, body: JSON.stringify({ choices: [] }) }),
  "/unauthorized/v1/chat/completions": () => ({ status: 401, body: "bad key" }),
  "/forbidden/v1/chat/completions": () => ({ status: 403, body: "no access" }),
  "/no-model/v1/chat/completions": () => ({ status: 404, body: "The model `gpt-9` does not exist" }),
  "/bad-request/v1/chat/completions": () => ({ status: 400, body: "prompt too long" }),
  "/banana/v1/chat/completions": () => ({ status: 200, body: completion("banana") }),
  "/banana-then-yes/v1/chat/completions": ({ count }) => ({
    status: 200,
    body: completion(count === 1 ? "" : "yes"),
  }),
  "/hang/v1/chat/completions": () => ({ status: 200, body: completion("yes"), delayMs: 60_000 }),
  "/slow/v1/chat/completions": () => ({ status: 200, body: completion("yes"), delayMs: 2000 }),
};

const counts = new Map<string, number>();
const received: { path: string; body: unknown; authorization?: string }[] = [];
let server: http.Server;
let origin: string;

before(async () => {
  server = http.createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk) => {
      raw += chunk;
    });
    request.on("end", () => {
      const path = request.url ?? "";
      const count = (counts.get(path) ?? 0) + 1;
      counts.set(path, count);
      const body: unknown = JSON.parse(raw);
      received.push({ path, body, authorization: request.headers.authorization });
      const behaviour = behaviours[path];
      const reply = behaviour ? behaviour({ body, count, headers: request.headers }) : { status: 404, body: "" };
      const send = () => {
        if (response.destroyed) return;
        response.writeHead(reply.status, { "content-type": "application/json" });
        response.end(reply.body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const item = { question: "Topic: Genghis Khan\nWho?", goldAnswer: "Temüjin", prediction: "It was Temüjin." };

function judgeFor(name: string, options: { maxAttempts?: number; timeoutMs?: number } = {}) {
  return new ChatCompletionsJudge({
    baseUrl: `${origin}/${name}/v1/`,
    apiKey: "test-key",
    initialBackoffMs: 5,
    env: {},
    ...options,
  });
}

test("the prompt carries the question, gold and student answers, asking for yes/no only", () => {
  const prompt = formatJudgePrompt({ question: "Q $& x", goldAnswer: "G $1", prediction: "P" });
  assert.match(prompt, /grading assistant/);
  assert.match(prompt, /based solely on the provided gold answer/);
  assert.match(prompt, /Respond ONLY with 'yes' or 'no'/);
  assert.ok(prompt.endsWith("Question: Q $& x\nGold answer: G $1\nStudent answer: P"));
  assert.equal(JUDGE_PROMPT_TEMPLATE.split("{question}").length, 2);
});

test("a yes reply is correct; the request is an OpenAI chat completion with the key", async () => {
  const result = await judgeFor("yes").grade(item);
  assert.deepEqual(result, { verdict: "correct", reply: "Yes.", attempts: 1 });
  const request = received.find((r) => r.path === "/yes/v1/chat/completions")!;
  assert.equal(request.authorization, "Bearer test-key");
  const body = request.body as { model: string; messages: { role: string; content: string }[]; temperature: number };
  assert.equal(body.model, DEFAULT_JUDGE_MODEL);
  assert.equal(body.temperature, 0);
  assert.equal(body.messages[0].role, "user");
  assert.equal(body.messages[0].content, formatJudgePrompt(item));
});

test("a no reply is incorrect", async () => {
  assert.deepEqual(await judgeFor("no").grade(item), { verdict: "incorrect", reply: "no", attempts: 1 });
});

test("an empty prediction is incorrect without any call", async () => {
  const before = counts.get("/yes/v1/chat/completions") ?? 0;
  const result = await judgeFor("yes").grade({ ...item, prediction: "  \n" });
  assert.deepEqual(result, { verdict: "incorrect", attempts: 0, skippedEmpty: true });
  assert.equal(counts.get("/yes/v1/chat/completions") ?? 0, before);
});

test("a 500 then success is retried and graded", async () => {
  const result = await judgeFor("flaky").grade(item);
  assert.deepEqual(result, { verdict: "correct", reply: "yes", attempts: 2 });
});

test("always 500: failed after N attempts, with the error", async () => {
  const result = await judgeFor("down", { maxAttempts: 3 }).grade(item);
  assert.equal(result.verdict, "failed");
  assert.equal(result.attempts, 3);
  assert.equal(counts.get("/down/v1/chat/completions"), 3);
  assert.match(result.error ?? "", /failed after 3 attempts: .*HTTP 500: server is down/);
});

test("a garbage body or a wrong JSON shape fails with a message saying so", async () => {
  const garbage = await judgeFor("garbage", { maxAttempts: 2 }).grade(item);
  assert.equal(garbage.verdict, "failed");
  assert.match(garbage.error ?? "", /not JSON/);
  const wrongShape = await judgeFor("wrong-shape", { maxAttempts: 1 }).grade(item);
  assert.equal(wrongShape.verdict, "failed");
  assert.match(wrongShape.error ?? "", /field "choices"/);
});

test("401, 403 and 404 throw JudgeRefusedError at the first call, naming the URL, the model and the status", async () => {
  for (const [name, status, hint] of [
    ["unauthorized", 401, /API key/],
    ["forbidden", 403, /API key/],
    ["no-model", 404, /--judge-model/],
  ] as const) {
    const judge = new ChatCompletionsJudge({
      baseUrl: `${origin}/${name}/v1`,
      model: "gpt-9",
      apiKey: "k",
      initialBackoffMs: 5,
      env: {},
    });
    await assert.rejects(judge.grade(item), (error: Error) => {
      assert.ok(error instanceof JudgeRefusedError, name);
      assert.equal(error.status, status);
      assert.ok(error.message.includes(`${origin}/${name}/v1/chat/completions`), error.message);
      assert.match(error.message, new RegExp(`HTTP ${status} .*model gpt-9`));
      assert.match(error.message, hint);
      return true;
    });
    assert.equal(counts.get(`/${name}/v1/chat/completions`), 1, `${name}: one call, no retry`);
  }
});

test("a 400 fails that question without retrying (the next question is still asked)", async () => {
  const result = await judgeFor("bad-request", { maxAttempts: 4 }).grade(item);
  assert.equal(result.verdict, "failed");
  assert.equal(result.attempts, 1);
  assert.match(result.error ?? "", /HTTP 400: prompt too long/);
});

test("a reply that is neither yes nor no is a failed verdict (retried), not an incorrect one", async () => {
  const result = await judgeFor("banana", { maxAttempts: 2 }).grade(item);
  assert.equal(result.verdict, "failed");
  assert.equal(result.attempts, 2);
  assert.equal(result.reply, "banana");
  assert.match(result.error ?? "", /failed after 2 attempts: reply is neither yes nor no: "banana"/);
  // an empty reply then a yes: the retry grades it
  assert.deepEqual(await judgeFor("banana-then-yes", { maxAttempts: 2 }).grade(item), {
    verdict: "correct",
    reply: "yes",
    attempts: 2,
  });
});

test("a judge that never answers costs timeoutMs per attempt, then fails", async () => {
  const result = await judgeFor("hang", { maxAttempts: 2, timeoutMs: 30 }).grade(item);
  assert.equal(result.verdict, "failed");
  assert.equal(counts.get("/hang/v1/chat/completions"), 2);
  assert.match(result.error ?? "", /failed after 2 attempts: .*timed out after 30 ms/);
});

test("a server slower than the timeout fails with a timeout error", async () => {
  const started = Date.now();
  const result = await judgeFor("slow", { maxAttempts: 2, timeoutMs: 100 }).grade(item);
  assert.equal(result.verdict, "failed");
  assert.equal(result.attempts, 2);
  assert.match(result.error ?? "", /timed out after 100 ms/);
  assert.ok(Date.now() - started < 1500, "the timeout must cut the call short");
});

test("an unreachable endpoint fails instead of throwing", async () => {
  const judge = new ChatCompletionsJudge({ baseUrl: "http://127.0.0.1:1/v1", maxAttempts: 1, env: {} });
  const result = await judge.grade(item);
  assert.equal(result.verdict, "failed");
  assert.match(result.error ?? "", /127\.0\.0\.1:1/);
});

test("gradeAll keeps input order under concurrency", async () => {
  const results = await judgeFor("no").gradeAll([item, { ...item, prediction: "" }, item], 2);
  assert.deepEqual(
    results.map((r) => r.verdict),
    ["incorrect", "incorrect", "incorrect"],
  );
  assert.equal(results[1].skippedEmpty, true);
});

test("options fall back to OPENAI_BASE_URL / OPENAI_API_KEY; OpenAI itself needs a key", () => {
  const judge = new ChatCompletionsJudge({ env: { OPENAI_BASE_URL: "http://localhost:9/v1/", OPENAI_API_KEY: "k" } });
  assert.equal(judge.endpoint, "http://localhost:9/v1/chat/completions");
  assert.throws(() => new ChatCompletionsJudge({ env: {} }), /OPENAI_API_KEY/);
  assert.throws(() => new ChatCompletionsJudge({ env: {}, baseUrl: "http://x/v1", maxAttempts: 0 }), /maxAttempts/);
  for (const timeoutMs of [0, -1, Number.NaN, 1e12]) {
    assert.throws(() => new ChatCompletionsJudge({ env: {}, baseUrl: "http://x/v1", timeoutMs }), /timeoutMs/);
  }
});
