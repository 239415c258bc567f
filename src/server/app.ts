/**
 * The HTTP server of `seal serve` (Fastify): OpenAI-compatible generation, the memory API and the dashboard.
 * Routes live in routes/*.ts, one group each; add a group to ROUTE_GROUPS. Every error, Fastify's own included,
 * answers in OpenAI's shape (errors.ts).
 */
import type { Duplex } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { registerAuth } from "./auth.js";
import { DEFAULT_BODY_LIMIT, type ServerDeps } from "./deps.js";
import { ApiError, sendApiError, toApiError } from "./errors.js";
import { registerCompletionRoutes } from "./routes/completions.js";
import { registerConsolidationRoutes } from "./routes/consolidation.js";
import { registerDashboardRoutes } from "./routes/dashboard.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerMemoryRoutes } from "./routes/memory.js";
import { registerModelRoutes } from "./routes/models.js";

export type { ServerDeps } from "./deps.js";

export type RouteGroup = (app: FastifyInstance, deps: ServerDeps) => void;

export const ROUTE_GROUPS: RouteGroup[] = [
  registerHealthRoutes,
  registerModelRoutes,
  registerCompletionRoutes,
  registerMemoryRoutes,
  registerConsolidationRoutes,
  registerDashboardRoutes,
];

/** Longest request path echoed back in a 404 message. */
const ECHOED_PATH_CHARS = 200;

/**
 * A request Node's HTTP parser refused (bad framing, oversized headers): answered in OpenAI's shape on the raw
 * socket, which is then closed (the connection's state is unknown).
 */
function answerMalformedRequest(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request Header Fields Too Large", "request headers too large"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "request timed out"]
        : [400, "Bad Request", "malformed HTTP request"];
  const body = JSON.stringify(new ApiError(status, message, "invalid_request_error").body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export function buildServer(deps: ServerDeps, groups: RouteGroup[] = ROUTE_GROUPS): FastifyInstance {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // A malformed URL or a broken content-type header: answered before any route runs.
    clientErrorHandler: answerMalformedRequest,
    frameworkErrors: (error, _request, reply) => sendApiError(reply as unknown as FastifyReply, toApiError(error)),
  });

  // JSON as Fastify parses it (prototype poisoning refused), but an empty body (a DELETE from some clients) is none.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body === "") done(null, undefined);
    else parseJson(request, body as string, done);
  });

  app.setErrorHandler((error, request, reply) => {
    const api = toApiError(error);
    if (api.status >= 500)
      log(`seal serve: ${request.method} ${request.url}: ${error instanceof Error ? error.stack : String(error)}`);
    sendApiError(reply, api);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0].slice(0, ECHOED_PATH_CHARS);
    sendApiError(
      reply,
      new ApiError(404, `no route ${request.method} ${path}`, "not_found_error", null, "unknown_url"),
    );
  });

  registerAuth(app, deps.apiKey);
  for (const register of groups) register(app, deps);
  return app;
}
