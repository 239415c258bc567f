/**
 * Downloading the official SQuAD v1.1 files and converting them to passage files (`squad_val.json` from the dev
 * set, `squad_train.json` from the train set; layout in ./data.ts).
 *
 * Each file is streamed to a temporary file next to the output while its SHA-256 is computed; it is converted only
 * when the digest matches the expected one, and the passage file is written atomically. The raw download is always
 * removed afterwards, so a failure (HTTP error, timeout, dropped connection, checksum mismatch, invalid layout)
 * leaves nothing behind. Transient failures (network errors, timeouts, truncated bodies, HTTP 408/429/5xx) are
 * retried with exponential backoff, each attempt starting over.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { tempPathFor } from "../../io/atomic-file.js";
import { parseJsonText, writeJsonFile } from "../../io/json-file.js";
import { squadV11ToPassages } from "./data.js";

export type SquadSplit = "dev" | "train";

export const SQUAD_SPLITS: readonly SquadSplit[] = ["dev", "train"];

/** Where the SQuAD authors publish the dataset (the SQuAD explorer site). */
export const SQUAD_V11_BASE_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/";

export interface SquadFileSpec {
  /** File name under the base URL. */
  remoteName: string;
  /** Passage file written into the output folder (the reference's names). */
  outputName: string;
  /** SHA-256 of the official file. */
  sha256: string;
  /** Size of the official file in bytes (progress total when the server sends no Content-Length). */
  bytes: number;
}

/**
 * The official files. The SQuAD site publishes no checksums; these SHA-256 digests (and sizes) are the ones pinned
 * for the same URLs by widely used loaders, e.g. facebookresearch/ParlAI `parlai/tasks/squad/build.py` and the
 * Hugging Face `squad` dataset's recorded download checksums (30,288,272 and 4,854,279 bytes).
 */
export const SQUAD_V11_FILES: Readonly<Record<SquadSplit, SquadFileSpec>> = {
  dev: {
    remoteName: "dev-v1.1.json",
    outputName: "squad_val.json",
    sha256: "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9",
    bytes: 4_854_279,
  },
  train: {
    remoteName: "train-v1.1.json",
    outputName: "squad_train.json",
    sha256: "3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955",
    bytes: 30_288_272,
  },
};

export interface DownloadProgress {
  split: SquadSplit;
  url: string;
  received: number;
  /** Expected size: the Content-Length, else the official size; undefined when neither applies. */
  total: number | undefined;
  /** True on the last report of a completed download. */
  done: boolean;
}

export interface SquadDownloadOptions {
  outDir: string;
  splits: readonly SquadSplit[];
  /** Folder URL holding `dev-v1.1.json` / `train-v1.1.json` (a mirror); default SQUAD_V11_BASE_URL. */
  baseUrl?: string;
  /** Overwrite existing passage files. */
  force?: boolean;
  /** Expected SHA-256 per split; default the official digests. */
  sha256?: Partial<Record<SquadSplit, string>>;
  /** Retries after the first attempt for transient failures (default 4). */
  retries?: number;
  /** Delay before the first retry, doubled for each further one (default 1000 ms, capped at 30 s). */
  backoffMs?: number;
  /** A request fails when no data arrives for this long (default 60 s). */
  timeoutMs?: number;
  onProgress?: (progress: DownloadProgress) => void;
  /** Notices such as retries. */
  log?: (line: string) => void;
}

export interface SquadDownloadResult {
  split: SquadSplit;
  url: string;
  outPath: string;
  bytes: number;
  sha256: string;
  passages: number;
  questions: number;
}

/** A failure worth another attempt (network trouble, timeouts, truncated bodies, 408/429/5xx). */
export class TransientDownloadError extends Error {}

const MAX_REDIRECTS = 5;
const MAX_BACKOFF_MS = 30_000;

/** The URL of `remoteName` under `baseUrl`; a base without a trailing slash is treated as a folder. */
export function squadFileUrl(baseUrl: string, remoteName: string): string {
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new Error(`--base-url ${baseUrl}: not a valid URL`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:")
    throw new Error(`--base-url ${baseUrl}: expected an http:// or https:// URL`);
  return new URL(remoteName, base).toString();
}

function describeNetworkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message ?? String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface AttemptOptions {
  timeoutMs: number;
  fallbackTotal: number | undefined;
  onBytes: (received: number, total: number | undefined) => void;
}

/** GET `url`, following redirects; resolves with the response once its status is 200. */
function requestOk(
  url: string,
  timeoutMs: number,
  redirects = 0,
): Promise<{ url: string; response: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    let request: http.ClientRequest;
    try {
      request = client.get(url, { agent: false, headers: { "accept-encoding": "identity", "user-agent": "seal" } });
    } catch (error) {
      reject(new Error(`GET ${url}: ${describeNetworkError(error)}`));
      return;
    }
    // Until the response starts; the body has its own idle timeout (downloadOnce).
    let responded = false;
    request.setTimeout(timeoutMs, () => {
      if (!responded)
        request.destroy(new TransientDownloadError(`GET ${url}: no response for ${timeoutMs / 1000} s (timeout)`));
    });
    request.on("error", (error) => {
      reject(
        error instanceof TransientDownloadError
          ? error
          : new TransientDownloadError(`GET ${url}: network error (${describeNetworkError(error)})`),
      );
    });
    request.on("response", (response) => {
      responded = true;
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        response.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new Error(`GET ${url}: too many redirects`));
          return;
        }
        const next = new URL(location, url).toString();
        requestOk(next, timeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        response.resume();
        const text = `GET ${url}: HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ""}`;
        reject(isTransientStatus(status) ? new TransientDownloadError(text) : new Error(text));
        return;
      }
      resolve({ url, response });
    });
  });
}

/** One attempt: streams `url` into `tempPath`, returns the byte count and SHA-256. Leaves the temp file on failure. */
async function downloadOnce(
  url: string,
  tempPath: string,
  options: AttemptOptions,
): Promise<{ bytes: number; sha256: string }> {
  const { response } = await requestOk(url, options.timeoutMs);
  const lengthHeader = response.headers["content-length"];
  const contentLength = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const total = contentLength ?? options.fallbackTotal;
  const hash = createHash("sha256");
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      options.onBytes(received, total);
      callback(null, chunk);
    },
  });
  // Idle timeout while the body streams.
  response.setTimeout(options.timeoutMs, () => {
    response.destroy(new TransientDownloadError(`GET ${url}: no data for ${options.timeoutMs / 1000} s (timeout)`));
  });
  try {
    await pipeline(response, meter, fs.createWriteStream(tempPath));
  } catch (error) {
    if (error instanceof TransientDownloadError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    // Local write errors (disk full, permissions) are not worth retrying.
    if (code && ["ENOSPC", "EACCES", "EPERM", "EROFS", "ENOENT", "EISDIR"].includes(code))
      throw new Error(`${tempPath}: cannot write (${describeNetworkError(error)})`);
    const expected = contentLength !== undefined ? ` of ${contentLength}` : "";
    throw new TransientDownloadError(
      `GET ${url}: connection lost after ${received}${expected} bytes (${describeNetworkError(error)})`,
    );
  }
  if (contentLength !== undefined && received !== contentLength)
    throw new TransientDownloadError(`GET ${url}: connection closed after ${received} of ${contentLength} bytes`);
  return { bytes: received, sha256: hash.digest("hex") };
}

/**
 * Downloads `url` to `tempPath` with retries and verifies its SHA-256. On any failure the temp file is removed and
 * the error names the URL.
 */
export async function downloadVerified(
  url: string,
  tempPath: string,
  expectedSha256: string,
  options: {
    retries?: number;
    backoffMs?: number;
    timeoutMs?: number;
    fallbackTotal?: number;
    onBytes?: (received: number, total: number | undefined) => void;
    log?: (line: string) => void;
  } = {},
): Promise<{ bytes: number; sha256: string }> {
  const retries = options.retries ?? 4;
  const backoffMs = options.backoffMs ?? 1000;
  const attempts = retries + 1;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const result = await downloadOnce(url, tempPath, {
        timeoutMs: options.timeoutMs ?? 60_000,
        fallbackTotal: options.fallbackTotal,
        onBytes: options.onBytes ?? (() => {}),
      });
      if (result.sha256 !== expectedSha256.toLowerCase()) {
        fs.rmSync(tempPath, { force: true });
        throw new Error(
          `${url}: SHA-256 mismatch: expected ${expectedSha256.toLowerCase()}, got ${result.sha256} (${result.bytes} bytes); the download was discarded`,
        );
      }
      return result;
    } catch (error) {
      fs.rmSync(tempPath, { force: true });
      if (!(error instanceof TransientDownloadError)) throw error;
      lastError = error;
      if (attempt < attempts) {
        const delay = Math.min(backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        options.log?.(`${error.message}; retrying in ${delay / 1000} s (attempt ${attempt + 1} of ${attempts})`);
        await sleep(delay);
      }
    }
  }
  throw new Error(
    `${lastError?.message ?? `GET ${url}: failed`} (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"})`,
  );
}

/**
 * Downloads the requested SQuAD v1.1 splits into `outDir` as passage files. Existing passage files are refused
 * (before anything is downloaded) unless `force` is set.
 */
export async function downloadSquad(options: SquadDownloadOptions): Promise<SquadDownloadResult[]> {
  const baseUrl = options.baseUrl ?? SQUAD_V11_BASE_URL;
  const splits = SQUAD_SPLITS.filter((split) => options.splits.includes(split));
  if (splits.length === 0) throw new Error("no SQuAD split requested");
  const plans = splits.map((split) => {
    const spec = SQUAD_V11_FILES[split];
    const expected = options.sha256?.[split] ?? spec.sha256;
    if (!/^[0-9a-fA-F]{64}$/.test(expected)) throw new Error(`${split}: expected SHA-256 is not 64 hex digits`);
    return {
      split,
      spec,
      expected,
      url: squadFileUrl(baseUrl, spec.remoteName),
      outPath: path.join(options.outDir, spec.outputName),
    };
  });
  if (!options.force) {
    const existing = plans.filter((plan) => fs.existsSync(plan.outPath)).map((plan) => plan.outPath);
    if (existing.length > 0)
      throw new Error(
        `${existing.join(", ")}: already exist${existing.length === 1 ? "s" : ""} (use --force to overwrite)`,
      );
  }
  fs.mkdirSync(options.outDir, { recursive: true });

  const results: SquadDownloadResult[] = [];
  for (const plan of plans) {
    const rawTemp = tempPathFor(path.join(options.outDir, plan.spec.remoteName));
    // The official size is only a sensible progress total for the official digest.
    const fallbackTotal = plan.expected.toLowerCase() === plan.spec.sha256 ? plan.spec.bytes : undefined;
    try {
      const { bytes, sha256 } = await downloadVerified(plan.url, rawTemp, plan.expected, {
        retries: options.retries,
        backoffMs: options.backoffMs,
        timeoutMs: options.timeoutMs,
        fallbackTotal,
        log: options.log,
        onBytes: (received, total) =>
          options.onProgress?.({ split: plan.split, url: plan.url, received, total, done: false }),
      });
      options.onProgress?.({ split: plan.split, url: plan.url, received: bytes, total: bytes, done: true });
      const passages = squadV11ToPassages(parseJsonText(fs.readFileSync(rawTemp, "utf8"), plan.url), plan.url);
      writeJsonFile(plan.outPath, passages);
      results.push({
        split: plan.split,
        url: plan.url,
        outPath: plan.outPath,
        bytes,
        sha256,
        passages: passages.length,
        questions: passages.reduce((sum, passage) => sum + passage.questions.length, 0),
      });
    } finally {
      fs.rmSync(rawTemp, { force: true });
    }
  }
  return results;
}
