/**
 * LLM judge for closed-book answers through any OpenAI-compatible `/chat/completions` endpoint.
 *
 * The reference (spec §1.5) grades with GPT-4.1, one call per question, with a yes/no prompt; the verdict is
 * "yes and not no" (see `parseJudgeVerdict`), empty predictions are wrong without a call, and calls are retried
 * with a growing sleep. Unlike the reference, a call that still fails is reported as `failed` with its error
 * instead of silently counting as wrong (callers decide what to do with failures), a reply that says neither yes
 * nor no is such a failure too, and a refusal that no retry can fix (a bad key, an unknown model) throws
 * `JudgeRefusedError` so that the caller stops asking.
 */
import { z } from "zod";
import { validateJson } from "../../io/json-file.js";
import { isEmptyPrediction, judgeReplyVerdict } from "./grading.js";

/**
 * The grading prompt, reconstructed from the reference's description (spec §1.5). Placeholders: `{question}`
 * (the reference passes `"Topic: {title}\n{question}"`), `{gold}` and `{prediction}`.
 */
export const JUDGE_PROMPT_TEMPLATE = `You are a grading assistant. Your job is to determine whether a student's answer correctly answers the question based solely on the provided gold answer. Do not use any outside knowledge. The student answer can include additional information, but it must at least fully convey the gold answer and must not contradict it. Ignore style, phrasing, or extra details that do not affect correctness. Respond ONLY with 'yes' or 'no'.

Question: {question}
Gold answer: {gold}
Student answer: {prediction}`;

export const DEFAULT_JUDGE_BASE_URL = "https://api.openai.com/v1";
export const DEFAULT_JUDGE_MODEL = "gpt-4.1";
/** One call's time limit: a judge that hangs costs at most this per attempt. */
export const DEFAULT_JUDGE_TIMEOUT_MS = 60_000;
/** A day: far beyond any real reply, and within what a timer accepts. */
export const MAX_JUDGE_TIMEOUT_MS = 86_400_000;
/** Attempts per question: the reference's 3 tries plus one fallback call. */
export const DEFAULT_JUDGE_ATTEMPTS = 4;

export interface JudgeItem {
  /** The question as shown to the answering model (the reference uses `"Topic: {title}\n{question}"`). */
  question: string;
  goldAnswer: string;
  prediction: string;
}

export type JudgeVerdict = "correct" | "incorrect" | "failed";

export interface JudgeResult {
  verdict: JudgeVerdict;
  /** The judge's raw reply text (absent when no call got a reply or none was made). */
  reply?: string;
  /** Why grading failed (only for `failed`): the last attempt's error. */
  error?: string;
  /** HTTP calls made (0 for an empty prediction). */
  attempts: number;
  /** True when the prediction was empty and so judged incorrect without a call. */
  skippedEmpty?: boolean;
}

export interface JudgeOptions {
  /** Base URL of the OpenAI-compatible API (…/v1). Default: env `OPENAI_BASE_URL`, else OpenAI's. */
  baseUrl?: string;
  /** Model name sent in the request. Default `gpt-4.1` as in the reference. */
  model?: string;
  /** Bearer token. Default: env `OPENAI_API_KEY`. Required only for OpenAI's own endpoint. */
  apiKey?: string;
  /** Total HTTP attempts per question (≥ 1). Default 4 (the reference: 3 tries plus one fallback call). */
  maxAttempts?: number;
  /** Sleep before the first retry, in ms; doubled for every later retry. Default 1500 (the reference's step). */
  initialBackoffMs?: number;
  /** Upper bound for one backoff sleep, in ms. Default 30000. */
  maxBackoffMs?: number;
  /** Time limit for one HTTP call (request and body), in ms, at most a day. Default 60000. */
  timeoutMs?: number;
  /** Sampling temperature sent to the judge. Default 0. */
  temperature?: number;
  /** Max tokens of the reply. Default 16 (a yes/no answer). */
  maxTokens?: number;
  /** Environment to read defaults from (for tests). Default `process.env`. */
  env?: Record<string, string | undefined>;
}

const chatCompletionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable() }),
      }),
    )
    .min(1),
});

/** HTTP statuses that will not improve by retrying the same request (this question fails; the next is asked). */
const NON_RETRYABLE_STATUSES = new Set([400, 422]);

/** Statuses that no later question can get past either (the key or the model is wrong), with what to check. */
const REFUSAL_HINTS: ReadonlyMap<number, string> = new Map([
  [401, "check the API key (OPENAI_API_KEY)"],
  [403, "check the API key (OPENAI_API_KEY) and its access to the model"],
  [404, "check --judge-model and --judge-base-url (…/v1)"],
]);

class JudgeCallError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The reply text when the call got one (a reply that is no verdict). */
    readonly reply?: string,
  ) {
    super(message);
  }
}

/** The judge refused a request in a way that holds for every request (bad key, no such model): stop asking. */
export class JudgeRefusedError extends Error {
  constructor(
    readonly endpoint: string,
    readonly model: string,
    readonly status: number,
    body: string,
  ) {
    super(
      `the judge refused the request: HTTP ${status} from ${endpoint} (model ${model}): ${body.slice(0, 200)} — ` +
        `${REFUSAL_HINTS.get(status) ?? "check the judge settings"}`,
    );
    this.name = "JudgeRefusedError";
  }
}

export function formatJudgePrompt(item: JudgeItem): string {
  // A replacer function keeps `$` sequences in answers literal.
  return JUDGE_PROMPT_TEMPLATE.replace("{question}", () => item.question)
    .replace("{gold}", () => item.goldAnswer)
    .replace("{prediction}", () => item.prediction);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class ChatCompletionsJudge {
  readonly endpoint: string;
  readonly model: string;
  readonly maxAttempts: number;
  private readonly apiKey: string | undefined;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly temperature: number;
  private readonly maxTokens: number;

  constructor(options: JudgeOptions = {}) {
    const env = options.env ?? process.env;
    const baseUrl = (options.baseUrl ?? env.OPENAI_BASE_URL ?? DEFAULT_JUDGE_BASE_URL).replace(/\/+$/, "");
    this.endpoint = `${baseUrl}/chat/completions`;
    this.model = options.model ?? DEFAULT_JUDGE_MODEL;
    this.apiKey = options.apiKey ?? env.OPENAI_API_KEY;
    if (!this.apiKey && baseUrl === DEFAULT_JUDGE_BASE_URL) {
      throw new Error("judge: no API key for the OpenAI endpoint (pass apiKey or set OPENAI_API_KEY)");
    }
    this.maxAttempts = options.maxAttempts ?? DEFAULT_JUDGE_ATTEMPTS;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new Error(`judge: maxAttempts must be an integer ≥ 1, got ${this.maxAttempts}`);
    }
    this.initialBackoffMs = options.initialBackoffMs ?? 1500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    const timeoutMs = options.timeoutMs ?? DEFAULT_JUDGE_TIMEOUT_MS;
    if (!(timeoutMs > 0 && timeoutMs <= MAX_JUDGE_TIMEOUT_MS)) {
      throw new Error(`judge: timeoutMs must be in (0, ${MAX_JUDGE_TIMEOUT_MS}], got ${timeoutMs}`);
    }
    this.timeoutMs = Math.ceil(timeoutMs); // AbortSignal.timeout takes whole milliseconds
    this.temperature = options.temperature ?? 0;
    this.maxTokens = options.maxTokens ?? 16;
  }

  /**
   * Grades one answer. Call failures (after the retries) come back as `failed` with the last error; a refusal that
   * holds for every request (401, 403, 404) throws `JudgeRefusedError` at once.
   */
  async grade(item: JudgeItem): Promise<JudgeResult> {
    if (isEmptyPrediction(item.prediction)) return { verdict: "incorrect", attempts: 0, skippedEmpty: true };
    const prompt = formatJudgePrompt(item);
    let lastError = "no attempt made";
    let lastReply: string | undefined;
    const failed = (error: string, attempts: number): JudgeResult =>
      lastReply === undefined
        ? { verdict: "failed", error, attempts }
        : { verdict: "failed", reply: lastReply, error, attempts };
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const reply = await this.callOnce(prompt);
        const verdict = judgeReplyVerdict(reply);
        if (verdict === null) {
          throw new JudgeCallError(`reply is neither yes nor no: ${JSON.stringify(reply.slice(0, 200))}`, true, reply);
        }
        return { verdict: verdict ? "correct" : "incorrect", reply, attempts: attempt };
      } catch (error) {
        if (error instanceof JudgeRefusedError) throw error;
        lastError = (error as Error).message;
        if (error instanceof JudgeCallError && error.reply !== undefined) lastReply = error.reply;
        const retryable = !(error instanceof JudgeCallError) || error.retryable;
        if (!retryable) return failed(lastError, attempt);
        if (attempt < this.maxAttempts) {
          await sleep(Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (attempt - 1)));
        }
      }
    }
    return failed(`failed after ${this.maxAttempts} attempts: ${lastError}`, this.maxAttempts);
  }

  /** Grades many answers, in input order, with at most `concurrency` calls in flight (default 1, as the reference). */
  async gradeAll(items: readonly JudgeItem[], concurrency = 1): Promise<JudgeResult[]> {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error("judge: concurrency must be ≥ 1");
    const results: JudgeResult[] = new Array(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const index = next++;
        results[index] = await this.grade(items[index]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
    return results;
  }

  private async callOnce(prompt: string): Promise<string> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const body = JSON.stringify({
      model: this.model,
      messages: [{ role: "user", content: prompt }],
      temperature: this.temperature,
      max_tokens: this.maxTokens,
    });
    const signal = AbortSignal.timeout(this.timeoutMs);
    let text: string;
    let status: number;
    try {
      const response = await fetch(this.endpoint, { method: "POST", headers, body, signal });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const err = error as Error;
      if (err.name === "TimeoutError" || signal.aborted) {
        throw new JudgeCallError(`${this.endpoint}: timed out after ${this.timeoutMs} ms`, true);
      }
      const cause = (err as { cause?: Error }).cause;
      throw new JudgeCallError(`${this.endpoint}: ${err.message}${cause ? ` (${cause.message})` : ""}`, true);
    }
    if (REFUSAL_HINTS.has(status)) throw new JudgeRefusedError(this.endpoint, this.model, status, text);
    if (status < 200 || status >= 300) {
      throw new JudgeCallError(
        `${this.endpoint}: HTTP ${status}: ${text.slice(0, 200)}`,
        !NON_RETRYABLE_STATUSES.has(status),
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new JudgeCallError(`${this.endpoint}: response is not JSON: ${JSON.stringify(text.slice(0, 200))}`, true);
    }
    let parsed: z.output<typeof chatCompletionSchema>;
    try {
      parsed = validateJson(json, chatCompletionSchema, `${this.endpoint} response`);
    } catch (error) {
      throw new JudgeCallError((error as Error).message, true);
    }
    const content = parsed.choices[0].message.content;
    if (content === null) throw new JudgeCallError(`${this.endpoint} response: message content is null`, true);
    return content;
  }
}
