/**
 * `seal serve`: the model as an OpenAI-compatible HTTP service with a memory: documents are retrieved (BM25) until
 * a consolidation (the SEAL step, scheduled or asked for) bakes them into a LoRA adapter. See serve-run.ts.
 */
import { type Command, InvalidArgumentError } from "commander";
import { RETRIEVAL_MODES, type RetrievalMode } from "../../domains/memory/hybrid.js";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";

export interface ServeOptions {
  model?: string;
  teacher?: string;
  data: string;
  host: string;
  port: number;
  apiKey?: string;
  retrieval: RetrievalMode;
  consolidateCron?: string;
  /** Milliseconds between scheduled consolidations. */
  consolidateEvery?: number;
  maxBatch: number;
  maxQueue: number;
  /** Bytes. */
  bodyLimit: number;
  maxTokens: number;
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "6h", "1d" (or a sum: "1h30m") → milliseconds. */
export function parseDuration(value: string): number {
  const text = value.trim().toLowerCase();
  if (!/^(\d+(\.\d+)?[smhd])+$/.test(text))
    throw new InvalidArgumentError('expected a duration such as "30m", "6h", "1d"');
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)) ms += Number(amount) * DURATION_UNITS[unit];
  if (!(ms >= 1000)) throw new InvalidArgumentError("expected a duration of at least 1s");
  return ms;
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "1mb", "512kb", "65536" → bytes. */
export function parseByteSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
  const bytes = match === null ? Number.NaN : Math.floor(Number(match[1]) * SIZE_UNITS[(match[2] ?? "").toLowerCase()]);
  if (!(bytes >= 1 && Number.isSafeInteger(bytes)))
    throw new InvalidArgumentError('expected a size such as "1mb", "512kb"');
  return bytes;
}

function parsePort(value: string): number {
  const port = parseNonNegativeInt(value);
  if (port > 65535) throw new InvalidArgumentError("expected a port in [0, 65535] (0: any free port)");
  return port;
}

function parseRetrieval(value: string): RetrievalMode {
  if (!(RETRIEVAL_MODES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${RETRIEVAL_MODES.join(", ")}`);
  return value as RetrievalMode;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(
      "serve the model over HTTP (OpenAI-compatible /v1/chat/completions and /v1/completions) with a memory: " +
        "documents posted to /v1/memory/documents are retrieved at once and consolidated into the weights (SEAL) " +
        "on a schedule or on request; dashboard at /",
    )
    .option("--model <dir>", "model folder (default: the shipped models/seal-mini)")
    .option("--teacher <dir>", "a separate model that writes the self-edits during consolidation (default: --model)")
    .option("--data <dir>", "data folder: memory.sqlite and adapter versions", "./seal-data")
    .option("--host <host>", "address to listen on (loopback unless you say otherwise)", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", parsePort, 8080)
    .option("--api-key <key>", "require 'Authorization: Bearer KEY' (default: $SEAL_API_KEY; none when unset)")
    .option(
      "--retrieval <mode>",
      "documents put into prompts: none, pending (not yet consolidated), all",
      parseRetrieval,
      "pending",
    )
    .option("--consolidate-cron <expr>", 'consolidate on this cron schedule, e.g. "0 3 * * *" (03:00 daily)')
    .option("--consolidate-every <duration>", 'consolidate at this interval, e.g. "6h", "30m"', parseDuration)
    .option("--max-batch <n>", "sequences decoded together", parsePositiveInt, 16)
    .option("--max-queue <n>", "requests waiting for a batch slot before 429 answers", parseNonNegativeInt, 64)
    .option("--body-limit <size>", "largest request body", parseByteSize, 1024 * 1024)
    .option("--max-tokens <n>", "completion tokens when a request gives no max_tokens", parsePositiveInt, 256)
    .action(async (options: ServeOptions) => {
      if (options.consolidateCron !== undefined && options.consolidateEvery !== undefined)
        throw new Error("give --consolidate-cron or --consolidate-every, not both");
      const apiKey = options.apiKey ?? process.env.SEAL_API_KEY;
      const { serveUntilSignal } = await import("./serve-run.js");
      await serveUntilSignal({ ...options, apiKey: apiKey === "" ? undefined : apiKey });
    });
}
