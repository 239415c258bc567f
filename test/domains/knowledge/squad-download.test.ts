import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  type DownloadProgress,
  downloadSquad,
  SQUAD_V11_FILES,
  squadFileUrl,
} from "../../../src/domains/knowledge/squad-download.js";
import { REPO_ROOT, tempDir } from "../../io/fixtures.js";

/** A small file in the official SQuAD v1.1 layout: 2 articles, 3 paragraphs, 5 questions. */
const SYNTHETIC = {
  version: "1.1",
  data: [
    {
      title: "Alpha",
      paragraphs: [
        {
          context: "Alpha is the first letter. It comes before beta.",
          qas: [
            {
              id: "q1",
              question: "Which letter is first?",
              answers: [
                { text: "Alpha", answer_start: 0 },
                { text: "Alpha is the first letter", answer_start: 0 },
              ],
            },
            { id: "q2", question: "What comes after alpha?", answers: [{ text: "beta", answer_start: 43 }] },
          ],
        },
        {
          context: "Gamma is the third letter.",
          qas: [{ id: "q3", question: "Which letter is third?", answers: [{ text: "Gamma", answer_start: 0 }] }],
        },
      ],
    },
    {
      title: "Café ☕",
      paragraphs: [
        {
          context: "Coffee is brewed from roasted beans.",
          qas: [
            {
              id: "q4",
              question: "What is coffee brewed from?",
              answers: [
                { text: "roasted beans", answer_start: 22 },
                { text: "beans", answer_start: 30 },
              ],
            },
            { id: "q5", question: "What is brewed?", answers: [{ text: "Coffee", answer_start: 0 }] },
          ],
        },
      ],
    },
  ],
};
const BODY = Buffer.from(JSON.stringify(SYNTHETIC));
const BODY_SHA = createHash("sha256").update(BODY).digest("hex");
const TRAIN_BODY = Buffer.from(JSON.stringify({ version: "1.1", data: [SYNTHETIC.data[1]] }));
const TRAIN_SHA = createHash("sha256").update(TRAIN_BODY).digest("hex");
const FAST = { retries: 2, backoffMs: 1, timeoutMs: 2000 };

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;
let handler: Handler = (_request, response) => response.writeHead(404).end();
const requests: string[] = [];
let server: http.Server;
let base = "";
const roots: string[] = [];

before(async () => {
  server = http.createServer((request, response) => {
    requests.push(request.url ?? "");
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/squad/`;
});

after(async () => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Serves the synthetic files under /squad/; other paths 404. */
function serveFiles(response: http.ServerResponse, url: string | undefined): void {
  const body = url === "/squad/dev-v1.1.json" ? BODY : url === "/squad/train-v1.1.json" ? TRAIN_BODY : undefined;
  if (body === undefined) {
    response.writeHead(404).end("not found");
    return;
  }
  response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
  // Two chunks, so progress is reported more than once.
  response.write(body.subarray(0, 100));
  response.end(body.subarray(100));
}

/** A fresh output folder (not yet created) and a cleared request log. */
function fresh(): { out: string } {
  requests.length = 0;
  const root = tempDir("seal-squad-");
  roots.push(root);
  return { out: path.join(root, "out") };
}

function listing(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

test("squadFileUrl: a base without a trailing slash is a folder; only http(s)", () => {
  assert.equal(squadFileUrl("http://host/a/b", "dev-v1.1.json"), "http://host/a/b/dev-v1.1.json");
  assert.equal(squadFileUrl("https://host/a/", "x.json"), "https://host/a/x.json");
  assert.throws(() => squadFileUrl("ftp://host/", "x.json"), /expected an http/);
  assert.throws(() => squadFileUrl("not a url", "x.json"), /not a valid URL/);
  assert.equal(SQUAD_V11_FILES.dev.sha256.length, 64);
  assert.equal(SQUAD_V11_FILES.train.sha256.length, 64);
});

test("downloads, verifies and converts both splits; progress reported; nothing else left", async () => {
  const { out } = fresh();
  handler = (request, response) => serveFiles(response, request.url);
  const progress: DownloadProgress[] = [];
  const results = await downloadSquad({
    outDir: out,
    splits: ["dev", "train"],
    baseUrl: base,
    sha256: { dev: BODY_SHA, train: TRAIN_SHA },
    onProgress: (event) => progress.push(event),
    ...FAST,
  });
  assert.deepEqual(listing(out), ["squad_train.json", "squad_val.json"]);
  assert.deepEqual(requests, ["/squad/dev-v1.1.json", "/squad/train-v1.1.json"]);

  const val = JSON.parse(fs.readFileSync(path.join(out, "squad_val.json"), "utf8"));
  assert.equal(val.length, 3);
  assert.deepEqual(
    val.map((passage: { title: string }) => passage.title),
    ["Alpha", "Alpha", "Café ☕"],
  );
  assert.equal(val[0].context, "Alpha is the first letter. It comes before beta.");
  assert.deepEqual(val[0].questions, [
    { question: "Which letter is first?", answer: "Alpha" },
    { question: "What comes after alpha?", answer: "beta" },
  ]);
  assert.deepEqual(val[2].questions[0], { question: "What is coffee brewed from?", answer: "roasted beans" });
  const train = JSON.parse(fs.readFileSync(path.join(out, "squad_train.json"), "utf8"));
  assert.equal(train.length, 1);
  assert.equal(train[0].title, "Café ☕");

  assert.deepEqual(
    results.map((result) => [result.split, result.passages, result.questions, result.bytes, result.sha256]),
    [
      ["dev", 3, 5, BODY.length, BODY_SHA],
      ["train", 1, 2, TRAIN_BODY.length, TRAIN_SHA],
    ],
  );
  assert.equal(results[0].url, `${base}dev-v1.1.json`);
  const devProgress = progress.filter((event) => event.split === "dev");
  assert.ok(devProgress.length >= 2);
  assert.deepEqual(devProgress.at(-1), {
    split: "dev",
    url: `${base}dev-v1.1.json`,
    received: BODY.length,
    total: BODY.length,
    done: true,
  });
  assert.ok(devProgress.every((event) => event.total === BODY.length));
});

test("checksum mismatch: clear error, not retried, no output and no temp file", async () => {
  const { out } = fresh();
  handler = (request, response) => serveFiles(response, request.url);
  await assert.rejects(downloadSquad({ outDir: out, splits: ["dev"], baseUrl: base, ...FAST }), (error: Error) => {
    assert.match(error.message, /dev-v1\.1\.json: SHA-256 mismatch/);
    assert.ok(error.message.includes(SQUAD_V11_FILES.dev.sha256));
    assert.ok(error.message.includes(BODY_SHA));
    return true;
  });
  assert.deepEqual(requests, ["/squad/dev-v1.1.json"]);
  assert.deepEqual(listing(out), []);
});

test("HTTP 404: error names the URL and status, not retried, nothing written", async () => {
  const { out } = fresh();
  handler = (_request, response) => response.writeHead(404, "Not Found").end("no such file");
  await assert.rejects(
    downloadSquad({ outDir: out, splits: ["dev"], baseUrl: base, sha256: { dev: BODY_SHA }, ...FAST }),
    (error: Error) => {
      assert.equal(error.message, `GET ${base}dev-v1.1.json: HTTP 404 Not Found`);
      return true;
    },
  );
  assert.equal(requests.length, 1);
  assert.deepEqual(listing(out), []);
});

test("HTTP 500 then success: retried with a notice, output written", async () => {
  const { out } = fresh();
  let calls = 0;
  handler = (request, response) => {
    calls++;
    if (calls === 1) response.writeHead(500, "Internal Server Error").end("oops");
    else serveFiles(response, request.url);
  };
  const notices: string[] = [];
  const results = await downloadSquad({
    outDir: out,
    splits: ["dev"],
    baseUrl: base,
    sha256: { dev: BODY_SHA },
    log: (line) => notices.push(line),
    ...FAST,
  });
  assert.equal(calls, 2);
  assert.equal(results[0].passages, 3);
  assert.deepEqual(listing(out), ["squad_val.json"]);
  assert.equal(notices.length, 1);
  assert.match(notices[0], /HTTP 500 Internal Server Error; retrying in 0\.001 s \(attempt 2 of 3\)/);
  assert.ok(notices[0].includes(`${base}dev-v1.1.json`));
});

test("HTTP 503 on every attempt: gives up after retries, naming the URL", async () => {
  const { out } = fresh();
  handler = (_request, response) => response.writeHead(503, "Service Unavailable").end();
  await assert.rejects(
    downloadSquad({ outDir: out, splits: ["dev"], baseUrl: base, sha256: { dev: BODY_SHA }, ...FAST }),
    new RegExp(`GET ${base}dev-v1\\.1\\.json: HTTP 503 Service Unavailable \\(gave up after 3 attempts\\)`),
  );
  assert.equal(requests.length, 3);
  assert.deepEqual(listing(out), []);
});

test("connection closed mid-body: error, retried, nothing left behind", async () => {
  const { out } = fresh();
  handler = (_request, response) => {
    response.writeHead(200, { "content-length": BODY.length });
    response.write(BODY.subarray(0, 50), () => setTimeout(() => response.socket?.destroy(), 20));
  };
  await assert.rejects(
    downloadSquad({ outDir: out, splits: ["dev"], baseUrl: base, sha256: { dev: BODY_SHA }, ...FAST }),
    (error: Error) => {
      assert.ok(error.message.startsWith(`GET ${base}dev-v1.1.json: connection `), error.message);
      assert.match(error.message, new RegExp(`after 50 of ${BODY.length} bytes`));
      assert.match(error.message, /gave up after 3 attempts/);
      return true;
    },
  );
  assert.equal(requests.length, 3);
  assert.deepEqual(listing(out), []);
});

test("a stalled body times out with a clear message", async () => {
  const { out } = fresh();
  handler = (_request, response) => {
    response.writeHead(200, { "content-length": BODY.length });
    response.write(BODY.subarray(0, 10));
  };
  await assert.rejects(
    downloadSquad({
      outDir: out,
      splits: ["dev"],
      baseUrl: base,
      sha256: { dev: BODY_SHA },
      retries: 0,
      timeoutMs: 150,
    }),
    new RegExp(`GET ${base}dev-v1\\.1\\.json: no data for 0\\.15 s \\(timeout\\)`),
  );
  assert.deepEqual(listing(out), []);
});

test("a server that never answers times out with a clear message", async () => {
  const { out } = fresh();
  handler = () => {};
  await assert.rejects(
    downloadSquad({
      outDir: out,
      splits: ["dev"],
      baseUrl: base,
      sha256: { dev: BODY_SHA },
      retries: 0,
      timeoutMs: 150,
    }),
    new RegExp(`GET ${base}dev-v1\\.1\\.json: no response for 0\\.15 s \\(timeout\\) \\(gave up after 1 attempt\\)`),
  );
  assert.deepEqual(listing(out), []);
});

test("connection refused: network error naming the URL", async () => {
  const { out } = fresh();
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await assert.rejects(
    downloadSquad({
      outDir: out,
      splits: ["dev"],
      baseUrl: `http://127.0.0.1:${port}/`,
      sha256: { dev: BODY_SHA },
      ...FAST,
    }),
    new RegExp(`GET http://127\\.0\\.0\\.1:${port}/dev-v1\\.1\\.json: network error \\(.*ECONNREFUSED`),
  );
  assert.deepEqual(listing(out), []);
});

test("redirects are followed", async () => {
  const { out } = fresh();
  handler = (request, response) => {
    if (request.url === "/squad/dev-v1.1.json")
      response.writeHead(302, { location: "/squad/moved/dev-v1.1.json" }).end();
    else serveFiles(response, request.url?.replace("/moved", ""));
  };
  const results = await downloadSquad({ outDir: out, splits: ["dev"], baseUrl: base, sha256: { dev: BODY_SHA } });
  assert.equal(results[0].questions, 5);
  assert.deepEqual(requests, ["/squad/dev-v1.1.json", "/squad/moved/dev-v1.1.json"]);
});

test("a verified file that is not SQuAD v1.1: error, nothing written", async () => {
  const { out } = fresh();
  const bad = Buffer.from(JSON.stringify({ version: "1.1", data: [{ title: "x" }] }));
  handler = (_request, response) => response.writeHead(200, { "content-length": bad.length }).end(bad);
  await assert.rejects(
    downloadSquad({
      outDir: out,
      splits: ["dev"],
      baseUrl: base,
      sha256: { dev: createHash("sha256").update(bad).digest("hex") },
      ...FAST,
    }),
    new RegExp(`${base}dev-v1\\.1\\.json: not SQuAD v1\\.1 layout: article 0`),
  );
  assert.deepEqual(listing(out), []);
});

test("existing output is refused without force (before any request), replaced with force", async () => {
  const { out } = fresh();
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "squad_train.json"), "old");
  handler = (request, response) => serveFiles(response, request.url);
  const options = { outDir: out, baseUrl: base, sha256: { dev: BODY_SHA, train: TRAIN_SHA }, ...FAST };
  await assert.rejects(
    downloadSquad({ ...options, splits: ["dev", "train"] }),
    /squad_train\.json: already exists \(use --force to overwrite\)/,
  );
  assert.equal(requests.length, 0);
  assert.deepEqual(listing(out), ["squad_train.json"]);
  assert.equal(fs.readFileSync(path.join(out, "squad_train.json"), "utf8"), "old");

  await downloadSquad({ ...options, splits: ["train"], force: true });
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, "squad_train.json"), "utf8")).length, 1);
  assert.deepEqual(listing(out), ["squad_train.json"]);
});

test("CLI: seal data squad checks the official checksum and refuses existing output", async () => {
  const run = promisify(execFile);
  const { out } = fresh();
  handler = (request, response) => serveFiles(response, request.url);
  const env = { ...process.env, SEAL_DEBUG: "" };
  const args = ["bin/seal.js", "data", "squad", "--out", out, "--split", "dev", "--base-url", base];
  await assert.rejects(
    run(process.execPath, args, { cwd: REPO_ROOT, env }),
    (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, new RegExp(`dev-v1\\.1\\.json: ${BODY.length} / ${BODY.length} bytes \\(100%\\)`));
      assert.match(
        error.stderr,
        new RegExp(`seal: ${base}dev-v1\\.1\\.json: SHA-256 mismatch: expected ${SQUAD_V11_FILES.dev.sha256}`),
      );
      return true;
    },
  );
  assert.deepEqual(listing(out), []);

  fs.writeFileSync(path.join(out, "squad_val.json"), "old");
  requests.length = 0;
  await assert.rejects(run(process.execPath, args, { cwd: REPO_ROOT, env }), (error: { stderr: string }) => {
    assert.match(error.stderr, /squad_val\.json: already exists \(use --force to overwrite\)/);
    return true;
  });
  assert.equal(requests.length, 0);

  await assert.rejects(
    run(process.execPath, [...args.slice(0, 5), "--split", "test"], { cwd: REPO_ROOT, env }),
    (error: { stderr: string }) => {
      assert.match(error.stderr, /--split <split>' argument 'test' is invalid/);
      return true;
    },
  );
});
