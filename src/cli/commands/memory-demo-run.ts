/**
 * `seal memory demo`: the deployment cycle on the SEAL-mini world against a live `seal serve`. Two batches of
 * held-out passages (the model never saw them) are ingested with their questions as probes; every condition is
 * measured through the chat API, closed-book unless it says retrieval:
 *
 *   A before        batch A ingested, retrieval off: what the weights know (chance level for unseen people)
 *   A retrieval     retrieval of pending documents on: RAG before any weight update
 *   A consolidated  after consolidation 1, retrieval off: the knowledge is in the weights
 *   B ...           the same for batch B, consolidated on top of A (consolidation 2)
 *   A after B       batch A closed-book after consolidation 2: forgetting
 *   forgotten       one A document deleted: its questions closed-book at once (still in the weights), then after
 *                   consolidation 3 rebuilt the adapter without it, closed-book and with retrieval of everything
 *                   (it must not be retrieved)
 */
import fs from "node:fs";
import path from "node:path";
import { gradeLocally } from "../../domains/knowledge/answer-grading.js";
import type { Passage } from "../../domains/knowledge/data.js";
import { closedBookQuestion } from "../../domains/knowledge/prompts.js";
import type { Consolidation } from "../../domains/memory/types.js";
import { splitPassages } from "../../domains/mini/held-out.js";
import { readMiniModelInfo } from "../../domains/mini/model-config.js";
import { generateWorld } from "../../domains/mini/world.js";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { writeJsonFile } from "../../io/json-file.js";
import { ask, mapConcurrent, requestJson, type ServerConnection, startServeProcess } from "./memory-demo-http.js";
import { type DemoRow, demoMarkdown, demoRow, demoTable } from "./memory-demo-report.js";

export interface MemoryDemoRequest {
  model: string;
  out: string;
  /** Passages per batch. */
  passages: number;
  maxAnswerTokens: number;
  concurrency: number;
  command: string;
  log: (line: string) => void;
}

export interface MemoryDemoSummary {
  command: string;
  model: string;
  passagesPerBatch: number;
  minutes: number;
  rows: DemoRow[];
  consolidations: Array<Pick<Consolidation, "id" | "state" | "mode" | "documentIds" | "report">>;
  forgottenDocument: string;
  forgottenRetrieved: number;
}

function heldOut(model: string, count: number, start: number): Passage[] {
  const info = readMiniModelInfo(model);
  const world = generateWorld({ seed: info.seed, ...info.world.world });
  const passages = splitPassages(world, "eval");
  if (passages.length < start + count)
    throw new Error(
      `the mini world has ${passages.length} held-out passages; --passages ${count} needs ${start + count}`,
    );
  return passages.slice(start, start + count);
}

interface Question {
  documentId: string;
  text: string;
  gold: string;
}

async function ingest(server: ServerConnection, passages: readonly Passage[]): Promise<Question[]> {
  const questions: Question[] = [];
  for (const p of passages) {
    const { document } = await requestJson<{ document: { id: string } }>(server, "POST", "/v1/memory/documents", {
      text: p.context,
      title: p.title,
      source: "seal-mini held-out",
      probes: p.questions,
    });
    for (const q of p.questions)
      questions.push({ documentId: document.id, text: closedBookQuestion(p.title, q.question), gold: q.answer });
  }
  return questions;
}

async function consolidate(server: ServerConnection, log: (line: string) => void, rebuild = false) {
  const started = performance.now();
  const { consolidation } = await requestJson<{ consolidation: Consolidation }>(
    server,
    "POST",
    "/v1/memory/consolidate",
    { rebuild },
  );
  let current = consolidation;
  while (current.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    current = await requestJson<Consolidation>(server, "GET", `/v1/memory/consolidations/${consolidation.id}`);
  }
  const gate = (current.report?.gate as { reason?: string } | undefined)?.reason ?? current.error ?? "";
  log(
    `consolidation ${current.id} (${current.mode}): ${current.state} in ${((performance.now() - started) / 1000).toFixed(0)} s — ${gate}`,
  );
  return current;
}

export async function runMemoryDemo(request: MemoryDemoRequest): Promise<MemoryDemoSummary> {
  const started = performance.now();
  const { log } = request;
  const out = path.resolve(request.out);
  const dataDir = path.join(out, "data");
  fs.rmSync(dataDir, { recursive: true, force: true }); // the demo's own scratch store: every run starts empty
  fs.mkdirSync(out, { recursive: true });
  const batchA = heldOut(request.model, request.passages, 0);
  const batchB = heldOut(request.model, request.passages, request.passages);
  log(`starting seal serve on ${request.model} (data: ${dataDir})`);
  const server = await startServeProcess({ model: request.model, dataDir, log });
  try {
    const rows: DemoRow[] = [];
    const measure = async (label: string, questions: readonly Question[], retrieval: "none" | "pending" | "all") => {
      const answers = await mapConcurrent(questions, request.concurrency, (q) =>
        ask(server, q.text, retrieval, request.maxAnswerTokens),
      );
      const correct = answers.map((a, i) => (gradeLocally(a.text, questions[i].gold).correct ? 1 : 0));
      const hits = answers.filter((a, i) => a.retrieved.includes(questions[i].documentId)).length;
      const row = demoRow(label, retrieval, correct, retrieval === "none" ? null : hits);
      rows.push(row);
      log(demoTable([row], false));
      return answers;
    };

    const questionsA = await ingest(server, batchA);
    log(`ingested batch A: ${batchA.length} passages, ${questionsA.length} questions`);
    await measure("A before consolidation", questionsA, "none");
    await measure("A with retrieval (pending)", questionsA, "pending");
    const first = await consolidate(server, log);
    await measure("A after consolidation 1", questionsA, "none");

    const questionsB = await ingest(server, batchB);
    log(`ingested batch B: ${batchB.length} passages, ${questionsB.length} questions`);
    await measure("B before consolidation", questionsB, "none");
    const second = await consolidate(server, log);
    await measure("B after consolidation 2", questionsB, "none");
    await measure("A after consolidation 2 (forgetting)", questionsA, "none");

    const forgotten = questionsA[0].documentId;
    const forgottenQuestions = questionsA.filter((q) => q.documentId === forgotten);
    await requestJson(server, "DELETE", `/v1/memory/documents/${forgotten}`);
    log(`forgot ${forgotten} (${forgottenQuestions.length} questions)`);
    // Out of retrieval at once, still in the weights until the next consolidation rebuilds them without it.
    await measure("forgotten document before consolidation 3", forgottenQuestions, "none");
    const third = await consolidate(server, log);
    await measure("forgotten document after consolidation 3", forgottenQuestions, "none");
    const withRetrieval = await measure("forgotten document, retrieval of all", forgottenQuestions, "all");
    const forgottenRetrieved = withRetrieval.filter((a) => a.retrieved.includes(forgotten)).length;

    const summary: MemoryDemoSummary = {
      command: request.command,
      model: request.model,
      passagesPerBatch: request.passages,
      minutes: (performance.now() - started) / 60_000,
      rows,
      consolidations: [first, second, third].map(({ id, state, mode, documentIds, report }) => ({
        id,
        state,
        mode,
        documentIds,
        report,
      })),
      forgottenDocument: forgotten,
      forgottenRetrieved,
    };
    writeJsonFile(path.join(out, "summary.json"), summary);
    writeFileAtomic(path.join(out, "report.md"), demoMarkdown(summary));
    return summary;
  } finally {
    await server.stop();
  }
}
