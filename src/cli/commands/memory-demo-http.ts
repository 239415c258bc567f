/**
 * The memory demo's side of the HTTP API: a `seal serve` child process on a fresh data folder (or a server the
 * user names), JSON requests with the API's error messages surfaced, and closed-book questions asked through
 * /v1/chat/completions exactly as any client would.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface ServerConnection {
  baseUrl: string;
  apiKey: string | null;
  /** Stops the child process (a no-op for a server the user runs). */
  stop(): Promise<void>;
}

function sealBin(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, "bin", "seal.js");
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error("bin/seal.js was not found beside the compiled code");
}

/** Starts `seal serve --port 0` and resolves with its URL once it prints the listening line. */
export async function startServeProcess(args: { model: string; dataDir: string; log: (line: string) => void }) {
  const child: ChildProcess = spawn(
    process.execPath,
    [sealBin(), "serve", "--port", "0", "--model", args.model, "--data", args.dataDir],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SEAL_API_KEY: "" } },
  );
  const stderrTail: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      if (line.includes("consolidation")) args.log(`  server: ${line}`);
    }
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const match = /listening on (http:\/\/\S+)/.exec(buffered);
      if (match) resolve(match[1].replace(/\/$/, ""));
    });
    child.once("exit", (code) =>
      reject(new Error(`seal serve exited (code ${code}) before listening:\n${stderrTail.join("\n")}`)),
    );
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { baseUrl, apiKey: null, stop } satisfies ServerConnection;
}

export async function requestJson<T>(
  server: ServerConnection,
  method: "GET" | "POST" | "DELETE",
  route: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (server.apiKey) headers.authorization = `Bearer ${server.apiKey}`;
  const response = await fetch(`${server.baseUrl}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${route}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const message = (parsed as { error?: { message?: string } }).error?.message ?? text.slice(0, 200);
    throw new Error(`${method} ${route}: HTTP ${response.status}: ${message}`);
  }
  return parsed as T;
}

export interface Answer {
  text: string;
  retrieved: string[];
}

/** One greedy answer through the chat API, with the retrieval mode the demo's condition asks for. */
export async function ask(
  server: ServerConnection,
  question: string,
  retrieval: "none" | "pending" | "all",
  maxTokens: number,
): Promise<Answer> {
  const reply = await requestJson<{
    choices: { message: { content: string | null } }[];
    seal?: { retrieved?: string[] };
  }>(server, "POST", "/v1/chat/completions", {
    model: "seal",
    messages: [{ role: "user", content: question }],
    temperature: 0,
    max_tokens: maxTokens,
    seal: { retrieval },
  });
  return { text: (reply.choices[0]?.message.content ?? "").trim(), retrieved: reply.seal?.retrieved ?? [] };
}

/** Runs `work` over `items` with at most `limit` in flight (the server batches concurrent requests). */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  });
  await Promise.all(lanes);
  return results;
}
