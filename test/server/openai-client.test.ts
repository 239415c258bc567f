/** `seal serve` driven by the official `openai` npm client: models, chat and text completions, streaming. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestServer, type TestServer } from "./test-server.js";

describe("seal serve with the openai client", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  test("GET /v1/models lists the served model", async () => {
    const models = [];
    for await (const model of server.client().models.list()) models.push(model);
    assert.equal(models.length, 1);
    assert.equal(models[0].id, server.generation.modelId);
    assert.equal(models[0].object, "model");
    const one = await server.client().models.retrieve(server.generation.modelId);
    assert.equal(one.id, server.generation.modelId);
  });

  test("chat completion: an assistant message, finish reason and usage", async () => {
    const completion = await server.client().chat.completions.create({
      model: server.generation.modelId,
      messages: [{ role: "user", content: "Where was Vraxdhur Khotux born?" }],
      max_tokens: 12,
      temperature: 0,
    });
    assert.equal(completion.object, "chat.completion");
    assert.match(completion.id, /^chatcmpl-/);
    assert.equal(completion.choices.length, 1);
    const choice = completion.choices[0];
    assert.equal(choice.message.role, "assistant");
    assert.equal(typeof choice.message.content, "string");
    assert.ok(choice.finish_reason === "stop" || choice.finish_reason === "length");
    assert.ok(completion.usage !== undefined);
    assert.ok(completion.usage.prompt_tokens > 0);
    assert.ok(completion.usage.completion_tokens >= 1 && completion.usage.completion_tokens <= 12);
    assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
  });

  test("max_tokens reached: finish_reason length, exactly that many tokens", async () => {
    const completion = await server.client().completions.create({
      model: server.generation.modelId,
      prompt: "Vraxdhur Khotux was born in",
      max_tokens: 3,
      temperature: 1,
      seed: 5,
      // The mini model's end-of-text token can end a sample early; a stop it cannot write keeps it going.
    });
    const choice = completion.choices[0];
    if (choice.finish_reason === "length") assert.equal(completion.usage?.completion_tokens, 3);
    else assert.ok((completion.usage?.completion_tokens ?? 0) <= 3);
  });

  test("chat stream: chunks concatenate to the whole answer and the stream ends", async () => {
    const request = {
      model: server.generation.modelId,
      messages: [{ role: "user" as const, content: "What did Vraxdhur Khotux study?" }],
      max_tokens: 16,
      temperature: 0.8,
      seed: 42,
    };
    const stream = await server.client().chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage = null;
    let roleSeen = false;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, "chat.completion.chunk");
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        if (choice.delta.role === "assistant") roleSeen = true;
        text += choice.delta.content ?? "";
        if (choice.finish_reason !== null) finish = choice.finish_reason;
      }
    }
    assert.ok(roleSeen, "the first chunk names the assistant role");
    assert.ok(finish === "stop" || finish === "length");
    assert.ok(usage !== null && usage.completion_tokens > 0);
    assert.ok(chunks >= 3);
    // The same request, not streamed, with the same seed: the same text.
    const whole = await server.client().chat.completions.create(request);
    assert.equal(text, whole.choices[0].message.content);
  });

  test("text completions, whole and streamed, agree for a seed", async () => {
    const request = { model: server.generation.modelId, prompt: "Khotux", max_tokens: 10, temperature: 1, seed: 7 };
    const whole = await server.client().completions.create(request);
    assert.equal(whole.object, "text_completion");
    assert.match(whole.id, /^cmpl-/);
    let streamed = "";
    for await (const chunk of await server.client().completions.create({ ...request, stream: true }))
      for (const choice of chunk.choices) streamed += choice.text;
    assert.equal(streamed, whole.choices[0].text);
  });

  test("n > 1: n choices, indexed, from one request", async () => {
    const completion = await server.client().chat.completions.create({
      model: server.generation.modelId,
      messages: [{ role: "user", content: "Who was Vraxdhur Khotux?" }],
      max_tokens: 8,
      n: 4,
      temperature: 1.5,
      seed: 3,
    });
    assert.deepEqual(
      completion.choices.map((c) => c.index),
      [0, 1, 2, 3],
    );
    const texts = new Set(completion.choices.map((c) => c.message.content));
    assert.ok(texts.size > 1, "hot sampling gives different choices");
  });

  test("seed: the same seed reproduces the answer, another seed changes it", async () => {
    const ask = (seed: number) =>
      server
        .client()
        .completions.create({
          model: server.generation.modelId,
          prompt: "Let's answer a question directly and concisely.\nQuestion: ",
          max_tokens: 24,
          temperature: 1.5,
          seed,
        })
        .then((c) => c.choices[0].text);
    const [a, b] = [await ask(11), await ask(11)];
    assert.equal(a, b);
    const others = await Promise.all([12, 13, 14].map(ask));
    assert.ok(
      others.some((text) => text !== a),
      "three other seeds do not all repeat seed 11's text",
    );
  });

  test("16 concurrent clients all succeed", async () => {
    const client = server.client();
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        client.chat.completions.create({
          model: server.generation.modelId,
          messages: [{ role: "user", content: `Question number ${i}: where was Khotux born?` }],
          max_tokens: 16,
          seed: i,
        }),
      ),
    );
    assert.equal(results.length, 16);
    for (const result of results) assert.equal(result.choices.length, 1);
    assert.deepEqual(server.errors, []);
  });
});
