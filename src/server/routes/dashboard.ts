/**
 * The dashboard: GET / and /dashboard/* serve the static page in the package's web/dashboard folder. The files
 * are a fixed list read once at registration; no part of a request ever becomes a file path. The page itself
 * calls the authenticated JSON API with the key the user types, so these routes need no key (auth.ts exempts GET /
 * and /dashboard/*).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

/** URL path → file in web/dashboard and its content type. */
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/dashboard/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
};

/** The page loads only its own script and style and talks only to this server. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** web/dashboard in the package: walks up from this module (dist/src/server/routes when compiled). */
export function dashboardDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, "web", "dashboard");
    if (fs.existsSync(path.join(candidate, "index.html"))) return candidate;
  }
  throw new Error("the dashboard's files (web/dashboard) were not found next to the seal package");
}

/** A route group of buildServer (it needs none of the server's dependencies). */
export function registerDashboardRoutes(app: FastifyInstance): void {
  const dir = dashboardDir();
  const bodies = new Map<string, Buffer>();
  for (const { file } of Object.values(FILES)) {
    if (!bodies.has(file)) bodies.set(file, fs.readFileSync(path.join(dir, file)));
  }
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const body = bodies.get(file)!;
    app.get(url, async (_request, reply) => {
      reply.headers(SECURITY_HEADERS).type(type);
      return body;
    });
  }
}
