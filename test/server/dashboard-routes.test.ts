/** The dashboard's static routes: a fixed file list, right content types and headers, nothing else served. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import Fastify from "fastify";
import { dashboardDir, registerDashboardRoutes } from "../../src/server/routes/dashboard.js";

function app() {
  const server = Fastify({ logger: false });
  registerDashboardRoutes(server);
  return server;
}

test("GET / serves the page with a content security policy that allows only its own files", async () => {
  const server = app();
  const response = await server.inject({ method: "GET", url: "/" });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers["content-type"]), /^text\/html; charset=utf-8/);
  assert.equal(response.body, fs.readFileSync(path.join(dashboardDir(), "index.html"), "utf8"));
  const csp = String(response.headers["content-security-policy"]);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.equal(response.headers["x-content-type-options"], "nosniff");
  await server.close();
});

test("the script and the style sheet are served with their content types", async () => {
  const server = app();
  const js = await server.inject({ method: "GET", url: "/dashboard/dashboard.js?v=1" });
  assert.equal(js.statusCode, 200);
  assert.match(String(js.headers["content-type"]), /^text\/javascript/);
  assert.match(js.body, /\/v1\/chat\/completions/);
  const css = await server.inject({ method: "GET", url: "/dashboard/dashboard.css" });
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers["content-type"]), /^text\/css/);
  await server.close();
});

test("no other path under /dashboard reaches a file, traversal included", async () => {
  const server = app();
  for (const url of [
    "/dashboard/package.json",
    "/dashboard/../package.json",
    "/dashboard/..%2f..%2fpackage.json",
    "/dashboard/%2e%2e/%2e%2e/package.json",
    "/dashboard/dashboard.js/../../../package.json",
    "/dashboard/",
  ]) {
    const response = await server.inject({ method: "GET", url });
    assert.notEqual(response.statusCode, 200, url);
    assert.doesNotMatch(response.body, /"name": "seal"/, url);
  }
  await server.close();
});

test("every file the page references is one the routes serve", async () => {
  const server = app();
  const html = (await server.inject({ method: "GET", url: "/" })).body;
  const refs = [...html.matchAll(/(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]);
  assert.ok(refs.length >= 2, `references: ${refs}`);
  for (const ref of refs) {
    const response = await server.inject({ method: "GET", url: ref });
    assert.equal(response.statusCode, 200, ref);
  }
  await server.close();
});
