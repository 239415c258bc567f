/**
 * Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`. Every failure a route, Fastify or
 * a dependency raises goes through `toApiError`, so clients see one format; 5xx answers never carry internals.
 */
import type { FastifyReply } from "fastify";
import { z } from "zod";
import { GenerationError, QueueFullError } from "./generation/types.js";

export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "conflict_error"
  | "rate_limit_error"
  | "server_error"
  | "service_unavailable_error";

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ApiErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get body(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, "invalid_request_error", param, code);
}

export function notFound(message: string, param: string | null = null): ApiError {
  return new ApiError(404, message, "not_found_error", param, "not_found");
}

/** The type OpenAI uses for a client error status. */
function typeOfStatus(status: number): ApiErrorType {
  if (status === 401) return "authentication_error";
  if (status === 404) return "not_found_error";
  if (status === 409) return "conflict_error";
  if (status === 429) return "rate_limit_error";
  if (status === 503) return "service_unavailable_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

/** A dotted field path (`messages.0.content`) for zod's issue path. */
export function fieldPath(path: readonly PropertyKey[]): string | null {
  return path.length === 0 ? null : path.map(String).join(".");
}

/** The first zod issue as a 400 naming its field: "messages.0.role: Invalid option: expected one of ...". */
export function fromZodError(error: z.ZodError, prefix = ""): ApiError {
  const issue = error.issues[0];
  const path = issue === undefined ? null : fieldPath([...(prefix === "" ? [] : [prefix]), ...issue.path]);
  const message = issue === undefined ? "invalid request" : issue.message;
  return invalidRequest(path === null ? message : `${path}: ${message}`, path, "invalid_value");
}

/**
 * Store errors (src/domains/memory/errors.ts) are recognised by name so this layer needs nothing but their
 * documented fields (`field` on MemoryInputError).
 */
function fromStoreError(error: Error): ApiError | null {
  switch (error.name) {
    case "MemoryNotFoundError":
      return notFound(error.message);
    case "MemoryInputError": {
      const field = (error as Error & { field?: unknown }).field;
      return invalidRequest(error.message, typeof field === "string" ? field : null, "invalid_value");
    }
    case "ConsolidationBusyError":
      return new ApiError(409, error.message, "conflict_error", null, "consolidation_running");
    case "VersionRejectedError":
      return new ApiError(409, error.message, "conflict_error", null, "version_rejected");
    default:
      return null;
  }
}

/** Fastify's own errors carry a statusCode (400 bad JSON, 413 body too large, 415 media type...). */
function fromFrameworkError(error: Error & { statusCode?: unknown; code?: unknown }): ApiError | null {
  const status = error.statusCode;
  if (typeof status !== "number" || status < 400 || status >= 500) return null;
  const code = status === 413 ? "request_too_large" : typeof error.code === "string" ? error.code : null;
  return new ApiError(status, error.message, typeOfStatus(status), null, code);
}

/** Maps anything thrown while handling a request to the answer the client gets. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof z.ZodError) return fromZodError(error);
  if (error instanceof QueueFullError) return new ApiError(429, error.message, "rate_limit_error", null, "queue_full");
  if (error instanceof GenerationError) {
    if (error.kind === "invalid") return invalidRequest(error.message, error.field, "invalid_value");
    return new ApiError(500, `generation failed: ${error.message}`, "server_error");
  }
  if (error instanceof Error) {
    const mapped = fromStoreError(error) ?? fromFrameworkError(error);
    if (mapped !== null) return mapped;
  }
  return new ApiError(500, "internal server error", "server_error");
}

/** Validates request input: the parsed value, or a 400 naming the first bad field (under `prefix`, if given). */
export function parseRequest<Schema extends z.ZodType>(schema: Schema, value: unknown, prefix = ""): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZodError(parsed.error, prefix);
  return parsed.data;
}

export function sendApiError(reply: FastifyReply, error: ApiError): void {
  void reply.code(error.status).send(error.body);
}
