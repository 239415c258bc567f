/**
 * A real `seal serve` for tests (and for the dashboard and consolidation tests to reuse): a temp data folder, the
 * real SQLite store, the real generation worker on the shipped models/seal-mini, listening on a free port.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import type { ServeOptions } from "../../src/cli/commands/serve.js";
import { type RunningServe, startServe } from "../../src/cli/commands/serve-run.js";
import type { ConsolidationSettings } from "../../src/domains/memory/consolidation-settings.js";
import { smallSettings } from "../domains/memory/consolidate-fixtures.js";
import { REPO_ROOT } from "../io/fixtures.js";

export const MINI_MODEL = path.join(REPO_ROOT, "models", "seal-mini");

export interface TestServerOptions extends Partial<ServeOptions> {
  /** The real consolidation service runs with these (default: SEAL-mini's, made small so a run takes seconds). */
  consolidationSettings?: ConsolidationSettings;
  /** Server error lines (5xx); default: collected in `errors`. */
  log?: (line: string) => void;
}

export interface TestServer extends RunningServe {
  /** The server's root URL, http://127.0.0.1:PORT. */
  baseUrl: string;
  apiKey: string | undefined;
  /** Server error lines logged so far (a healthy run has none). */
  errors: string[];
  /** Consolidation progress lines. */
  consolidationLog: string[];
  /** The official OpenAI client pointed at this server (no retries, so a 429 reaches the test). */
  client(options?: { apiKey?: string }): OpenAI;
  /** Closes the server and deletes the temp data folder (unless `data` was given). */
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownData = options.data === undefined;
  const data = options.data ?? fs.mkdtempSync(path.join(os.tmpdir(), "seal-serve-test-"));
  const errors: string[] = [];
  const serveOptions: ServeOptions = {
    model: MINI_MODEL,
    host: "127.0.0.1",
    port: 0,
    retrieval: "pending",
    maxBatch: 16,
    maxQueue: 64,
    bodyLimit: 1024 * 1024,
    maxTokens: 32,
    ...options,
    data,
  };
  const consolidationLog: string[] = [];
  const running = await startServe(serveOptions, {
    log: options.log ?? ((line) => errors.push(line)),
    consolidationSettings: options.consolidationSettings ?? smallSettings(),
    consolidationLog: (line) => consolidationLog.push(line),
  });
  return {
    ...running,
    baseUrl: running.url,
    apiKey: serveOptions.apiKey,
    errors,
    consolidationLog,
    client: (clientOptions = {}) =>
      new OpenAI({
        baseURL: `${running.url}/v1`,
        apiKey: clientOptions.apiKey ?? serveOptions.apiKey ?? "unused",
        maxRetries: 0,
        timeout: 120_000,
      }),
    close: async () => {
      await running.close();
      if (ownData) fs.rmSync(data, { recursive: true, force: true });
    },
  };
}

/** A parsed JSON answer: tests read it field by field and their assertions check the shape. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type JsonBody = any;

/** fetch() against the server, returning the status and the parsed JSON body (null when the body is empty). */
export async function fetchJson(
  server: { baseUrl: string },
  urlPath: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; apiKey?: string } = {},
): Promise<{ status: number; body: JsonBody; headers: Headers }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.apiKey !== undefined) headers.authorization = `Bearer ${init.apiKey}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(server.baseUrl + urlPath, { method: init.method ?? "GET", headers, body });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text), headers: response.headers };
}

/** Asserts OpenAI's error shape; returns the error object. */
export function openAiError(body: JsonBody): {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
} {
  if (typeof body !== "object" || body === null || typeof body.error !== "object")
    throw new Error(`not an OpenAI error body: ${JSON.stringify(body)}`);
  const { message, type, param, code } = body.error;
  if (typeof message !== "string" || typeof type !== "string") throw new Error(`bad error: ${JSON.stringify(body)}`);
  if (!(param === null || typeof param === "string") || !(code === null || typeof code === "string"))
    throw new Error(`bad error param/code: ${JSON.stringify(body)}`);
  return body.error;
}
