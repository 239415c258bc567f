/** `seal serve` as a command: prints its URL, answers /health, exits cleanly on SIGTERM. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { CHILD_ENV } from "../cli/cli-fixtures.js";
import { REPO_ROOT } from "../io/fixtures.js";

test("seal serve --port 0: listening URL, /health, SIGTERM exits 0; the data folder holds the store", async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "seal-serve-cli-"));
  try {
    const child = spawn(process.execPath, ["bin/seal.js", "serve", "--port", "0", "--data", data], {
      cwd: REPO_ROOT,
      env: { ...CHILD_ENV, SEAL_API_KEY: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 60 s: ${stdout} ${stderr}`)), 60_000);
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        const match = /seal serve: listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on("exit", (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
    });
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { status: string; consolidating: boolean };
    assert.equal(body.status, "ok");
    assert.equal(body.consolidating, false);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    assert.equal(models.data.length, 1);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    assert.ok(fs.existsSync(path.join(data, "memory.sqlite")), "the store lives in --data");
    assert.match(stdout, /dashboard at http:\/\/127\.0\.0\.1:\d+\//);
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
});

test("seal serve rejects bad options before starting", async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["bin/seal.js", "serve", ...args], { cwd: REPO_ROOT, env: CHILD_ENV });
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      child.on("exit", (code) => resolve({ code, stderr }));
    });
  await Promise.all([
    run(["--port", "70000"]).then((r) => assert.match(r.stderr, /--port.*0, 65535/)),
    run(["--retrieval", "sometimes"]).then((r) => assert.match(r.stderr, /none, pending, all/)),
    run(["--consolidate-every", "soon"]).then((r) => assert.match(r.stderr, /duration/)),
    run(["--body-limit", "lots"]).then((r) => assert.match(r.stderr, /size/)),
  ]);
});
