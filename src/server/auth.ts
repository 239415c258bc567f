/**
 * Bearer-token authentication. Public routes are decided from the route Fastify matched (its pattern), not from
 * the raw URL, so encodings or extra slashes cannot reach a private route as a public one.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";

/** GET/HEAD routes answered without a key: the health check and the dashboard's static files. */
export function isPublicRoute(method: string, routeUrl: string | undefined): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  if (routeUrl === undefined) return false;
  return routeUrl === "/health" || routeUrl === "/" || routeUrl.startsWith("/dashboard/");
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Compares in constant time (digests have equal lengths whatever the inputs). */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token of an `Authorization: Bearer TOKEN` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match === null ? null : match[1];
}

export function checkApiKey(request: FastifyRequest, apiKey: string): void {
  if (isPublicRoute(request.method, request.routeOptions.url)) return;
  const token = bearerToken(request.headers.authorization);
  if (token === null)
    throw new ApiError(
      401,
      "missing API key: send it as the header 'Authorization: Bearer KEY'",
      "authentication_error",
      null,
      "missing_api_key",
    );
  if (!tokensEqual(token, apiKey))
    throw new ApiError(401, "incorrect API key", "authentication_error", null, "invalid_api_key");
}

/** Requires the key on every request (before the body is read) when one is configured. */
export function registerAuth(app: FastifyInstance, apiKey: string | null | undefined): void {
  if (apiKey === null || apiKey === undefined || apiKey === "") return;
  app.addHook("onRequest", async (request) => checkApiKey(request, apiKey));
}
