/**
 * `seal serve` under load: the server runs in a child process on the shipped SEAL-mini model with a fresh data
 * folder; autocannon keeps 16 connections busy on POST /v1/chat/completions for 30 s while /health is probed
 * beside it; then a few documents are added and a consolidation is started, with /health probed until it ends.
 * The aggregate generated tokens/s (from each response's usage) is printed next to the engine's own batched
 * figures, measured in this process on the same model in the same run while the server idles: generate() with 16
 * prompts of the server's prompt length decoding max_tokens each (the decode ceiling), and the same with as many
 * new tokens as the server's replies had on average (the same work without HTTP, worker or scheduling).
 *
 *   npm run bench:serve                        # 30 s, human-readable
 *   npm run bench:serve -- --duration 5 --json # one JSON line
 *
 * Exits 1 when any request failed (transport error, timeout, non-2xx, a body without usage) or a /health probe
 * failed.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { Command } from "commander";
import { shippedMiniModel } from "../src/cli/commands/demo-run.js";
import type { Passage } from "../src/domains/knowledge/data.js";
import { splitPassages } from "../src/domains/mini/held-out.js";
import { MINI_MODEL_INFO_FILE, readMiniModelInfo } from "../src/domains/mini/model-config.js";
import { generateWorld } from "../src/domains/mini/world.js";
import { HealthProbe, type LatencySummary } from "./latency.js";
import { startServe } from "./serve-child.js";
import { type EngineFigure, engineDecodeFigure } from "./serve-engine.js";

interface Options {
  model?: string;
  duration: number;
  connections: number;
  maxTokens: number;
  documents: number;
  consolidationTimeout: number;
  consolidation: boolean;
  json: boolean;
}

interface ConsolidationFigure {
  measured: boolean;
  /** Why it was not measured, or how it ended. */
  note: string;
  id: number | null;
  state: string | null;
  seconds: number | null;
  health: LatencySummary | null;
}

interface ServeBenchResult {
  model: string;
  cpus: number;
  duration_s: number;
  connections: number;
  max_tokens: number;
  requests: number;
  requests_per_s: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  errors: number;
  error_detail: Record<string, number>;
  completion_tokens: number;
  mean_completion_tokens: number;
  prompt_tokens: number;
  generated_tokens_per_s: number;
  /** The engine's batched decode: 16 prompts × max_tokens, no stop token. */
  engine: EngineFigure;
  /** Server aggregate / engine batched decode. */
  ratio_to_engine: number;
  /** The engine on the server's work: 16 prompts × the replies' mean length (rounded, at least 1). */
  engine_same_work: EngineFigure;
  ratio_to_engine_same_work: number;
  health_under_load: LatencySummary;
  consolidation: ConsolidationFigure;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Held-out passages of the world a SEAL-mini model was pretrained on (its words are in the tokenizer). */
function worldPassages(modelDir: string): Passage[] | null {
  if (!fs.existsSync(path.join(modelDir, MINI_MODEL_INFO_FILE))) return null;
  const info = readMiniModelInfo(modelDir);
  return splitPassages(generateWorld({ seed: info.seed, ...info.world.world }), "eval");
}

async function postJson(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

function usageOf(body: unknown): { prompt_tokens: number; completion_tokens: number } | null {
  const usage = (body as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  if (typeof usage?.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number") return null;
  return { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens };
}

async function runLoad(url: string, chatBody: string, opts: Options) {
  let completionTokens = 0;
  let responses = 0;
  let badBodies = 0;
  const health = new HealthProbe(url, 100);
  const result = await autocannon({
    url,
    connections: opts.connections,
    duration: opts.duration,
    timeout: 120,
    requests: [
      {
        method: "POST",
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json" },
        body: chatBody,
        onResponse(status, body) {
          if (status !== 200) return; // counted in non2xx
          const usage = (() => {
            try {
              return usageOf(JSON.parse(body));
            } catch {
              return null;
            }
          })();
          if (usage === null) badBodies++;
          else {
            responses++;
            completionTokens += usage.completion_tokens;
          }
        },
      },
    ],
  });
  const healthUnderLoad = await health.stop();
  return { result, completionTokens, responses, badBodies, healthUnderLoad };
}

/** Adds documents, starts a consolidation and probes /health until it finishes (or the timeout). */
async function measureConsolidation(url: string, passages: Passage[], opts: Options): Promise<ConsolidationFigure> {
  const none = (note: string): ConsolidationFigure => ({
    measured: false,
    note,
    id: null,
    state: null,
    seconds: null,
    health: null,
  });
  if (!opts.consolidation) return none("not measured (--no-consolidation)");
  for (const passage of passages.slice(0, opts.documents)) {
    const added = await postJson(`${url}/v1/memory/documents`, {
      title: passage.title,
      text: passage.context,
      probes: passage.questions.map(({ question, answer }) => ({ question, answer })),
    });
    if (added.status !== 200 && added.status !== 201)
      throw new Error(`POST /v1/memory/documents answered ${added.status}: ${JSON.stringify(added.json)}`);
  }
  const health = new HealthProbe(url, 100);
  const started = performance.now();
  const answer = await postJson(`${url}/v1/memory/consolidate`, {});
  if (answer.status !== 202 && answer.status !== 200) {
    await health.stop();
    throw new Error(`POST /v1/memory/consolidate answered ${answer.status}: ${JSON.stringify(answer.json)}`);
  }
  const consolidation = (answer.json as { consolidation?: { id?: number; state?: string } }).consolidation;
  if (typeof consolidation?.id !== "number") {
    await health.stop();
    throw new Error(`POST /v1/memory/consolidate: no consolidation id in ${JSON.stringify(answer.json)}`);
  }
  let state = consolidation.state ?? "running";
  const deadline = started + opts.consolidationTimeout * 1000;
  while (state === "running" && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const response = await fetch(`${url}/v1/memory/consolidations/${consolidation.id}`);
    const body = (await response.json()) as { consolidation?: { state?: string }; state?: string };
    state = body.consolidation?.state ?? body.state ?? state;
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = await health.stop();
  const finished = state !== "running";
  return {
    measured: true,
    note: finished
      ? `consolidation #${consolidation.id} ended "${state}" after ${seconds.toFixed(1)} s`
      : `consolidation #${consolidation.id} still running after ${seconds.toFixed(1)} s (--consolidation-timeout): measured its first ${seconds.toFixed(1)} s`,
    id: consolidation.id,
    state,
    seconds: round(seconds, 1),
    health: summary,
  };
}

async function runServeBench(opts: Options): Promise<ServeBenchResult> {
  const model = opts.model ?? shippedMiniModel();
  const passages = worldPassages(model);
  const question = passages?.[0].questions[0].question ?? "What is the capital of France?";
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "seal-bench-serve-"));
  const log = (line: string) => {
    if (!opts.json) process.stderr.write(`bench:serve: ${line}\n`);
  };
  log(`starting seal serve on ${model} (data ${dataDir})…`);
  const serve = await startServe([
    "--model",
    model,
    "--data",
    dataDir,
    "--max-batch",
    String(opts.connections),
    "--max-queue",
    String(Math.max(64, opts.connections * 4)),
  ]);
  try {
    // the model id the server reports, as a client would send it
    const models = (await (await fetch(`${serve.url}/v1/models`)).json()) as { data?: Array<{ id?: string }> };
    const modelId = models.data?.[0]?.id;
    if (typeof modelId !== "string") throw new Error(`GET /v1/models listed no model: ${JSON.stringify(models)}`);
    const chatBody = JSON.stringify({
      model: modelId,
      messages: [{ role: "user", content: question }],
      max_tokens: opts.maxTokens,
      temperature: 0,
    });
    const warm = await postJson(`${serve.url}/v1/chat/completions`, JSON.parse(chatBody));
    const warmUsage = usageOf(warm.json);
    if (warm.status !== 200 || warmUsage === null)
      throw new Error(`the warm-up chat request answered ${warm.status}: ${JSON.stringify(warm.json)}`);

    log(`engine figure: generate() with ${opts.connections} prompts of ${warmUsage.prompt_tokens} tokens…`);
    const engine = engineDecodeFigure(model, {
      text: question,
      promptTokens: warmUsage.prompt_tokens,
      maxTokens: opts.maxTokens,
      prompts: opts.connections,
      minSeconds: Math.min(5, opts.duration),
    });

    log(`load: ${opts.connections} connections for ${opts.duration} s on /v1/chat/completions…`);
    const load = await runLoad(serve.url, chatBody, opts);
    const meanTokens = load.responses === 0 ? 0 : load.completionTokens / load.responses;
    log(`engine figure on the same work: ${opts.connections} prompts × ${Math.max(1, Math.round(meanTokens))} tokens…`);
    const sameWork = engineDecodeFigure(model, {
      text: question,
      promptTokens: warmUsage.prompt_tokens,
      maxTokens: Math.max(1, Math.round(meanTokens)),
      prompts: opts.connections,
      minSeconds: Math.min(5, opts.duration),
    });
    log("consolidation: adding documents and probing /health until it ends…");
    const consolidation = await measureConsolidation(serve.url, passages ?? [], opts);

    const r = load.result;
    const errorDetail = { errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx, bad_bodies: load.badBodies };
    const errors = r.errors + r.non2xx + load.badBodies;
    const generated = load.completionTokens / r.duration;
    return {
      model,
      cpus: os.cpus().length,
      duration_s: round(r.duration, 1),
      connections: opts.connections,
      max_tokens: opts.maxTokens,
      requests: load.responses,
      requests_per_s: round(load.responses / r.duration),
      latency_p50_ms: r.latency.p50,
      latency_p99_ms: r.latency.p99,
      errors,
      error_detail: errorDetail,
      completion_tokens: load.completionTokens,
      mean_completion_tokens: round(meanTokens, 1),
      prompt_tokens: warmUsage.prompt_tokens,
      generated_tokens_per_s: round(generated, 1),
      engine: { ...engine, tokens_per_s: round(engine.tokens_per_s, 1), seconds: round(engine.seconds, 1) },
      ratio_to_engine: round(generated / engine.tokens_per_s, 3),
      engine_same_work: {
        ...sameWork,
        tokens_per_s: round(sameWork.tokens_per_s, 1),
        seconds: round(sameWork.seconds, 1),
      },
      ratio_to_engine_same_work: round(generated / sameWork.tokens_per_s, 3),
      health_under_load: load.healthUnderLoad,
      consolidation,
    };
  } finally {
    await serve.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function ms(value: number | null): string {
  return value === null ? "–" : `${value.toFixed(1)} ms`;
}

function print(result: ServeBenchResult): void {
  const h = result.health_under_load;
  const lines = [
    `seal serve under load — ${result.model} (${result.cpus} CPUs, node ${process.version})`,
    `  load                 ${result.connections} connections × ${result.duration_s} s, POST /v1/chat/completions, max_tokens ${result.max_tokens}, ${result.prompt_tokens} prompt tokens`,
    `  requests/s           ${result.requests_per_s} (${result.requests} requests)`,
    `  latency              p50 ${ms(result.latency_p50_ms)}, p99 ${ms(result.latency_p99_ms)}`,
    `  errors               ${result.errors} ${JSON.stringify(result.error_detail)}`,
    `  generated tokens/s   ${result.generated_tokens_per_s} (mean ${result.mean_completion_tokens} tokens per reply)`,
    `  engine batched       ${result.engine.tokens_per_s} tokens/s (generate(), ${result.engine.prompts} prompts × ${result.engine.max_tokens} tokens, no stop; same model, same run) → server/engine ${result.ratio_to_engine}`,
    `  engine, same work    ${result.engine_same_work.tokens_per_s} tokens/s (${result.engine_same_work.prompts} prompts × ${result.engine_same_work.max_tokens} tokens, the replies' mean) → server/engine ${result.ratio_to_engine_same_work}`,
    `  /health under load   p50 ${ms(h.p50_ms)}, p99 ${ms(h.p99_ms)}, max ${ms(h.max_ms)} (${h.samples} probes, ${h.failures} failed)`,
  ];
  const c = result.consolidation;
  if (c.health === null) lines.push(`  /health consolidating ${c.note}`);
  else
    lines.push(
      `  /health consolidating p50 ${ms(c.health.p50_ms)}, p99 ${ms(c.health.p99_ms)}, max ${ms(c.health.max_ms)} (${c.health.samples} probes, ${c.health.failures} failed; ${c.note})`,
    );
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function main(): Promise<void> {
  const integer = (name: string) => (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
    return n;
  };
  const program = new Command()
    .name("bench:serve")
    .description("seal serve under load: autocannon on /v1/chat/completions, /health during load and consolidation")
    .option("--model <dir>", "model folder (default: the shipped SEAL-mini)")
    .option("--duration <s>", "seconds of load", integer("--duration"), 30)
    .option("--connections <n>", "concurrent connections", integer("--connections"), 16)
    .option("--max-tokens <n>", "max_tokens per request", integer("--max-tokens"), 16)
    .option("--documents <n>", "documents added before the consolidation", integer("--documents"), 3)
    .option("--consolidation-timeout <s>", "stop probing after this long", integer("--consolidation-timeout"), 1800)
    .option("--no-consolidation", "skip the consolidation measurement")
    .option("--json", "print one JSON line", false);
  program.parse();
  const result = await runServeBench(program.opts<Options>());
  if (program.opts<Options>().json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else print(result);
  const healthFailures = result.health_under_load.failures + (result.consolidation.health?.failures ?? 0);
  if (result.errors > 0 || healthFailures > 0) {
    process.stderr.write(`bench:serve: ${result.errors} request errors, ${healthFailures} failed /health probes\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:serve: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
