/**
 * kill -9 during a consolidation, through the real `seal serve` command: SIGKILL at a training step and inside the
 * transaction that records the new version. The restarted server finds a consistent store, resumes the
 * consolidation and finishes it exactly once.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { openMemoryStore } from "../../src/domains/memory/store.js";
import type { Consolidation } from "../../src/domains/memory/types.js";
import { CHILD_ENV } from "../cli/cli-fixtures.js";
import { heldOutPassages } from "../domains/memory/consolidate-fixtures.js";
import { REPO_ROOT } from "../io/fixtures.js";

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
  output: () => string;
}

async function serve(data: string, crashAt: string | null): Promise<Served> {
  const env = { ...CHILD_ENV, SEAL_API_KEY: "", ...(crashAt === null ? {} : { SEAL_CRASH_AT: crashAt }) };
  const child = spawn(process.execPath, ["bin/seal.js", "serve", "--port", "0", "--data", data], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(signal ?? code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.on("exit", () => reject(new Error(`seal serve exited before listening:\n${output}`)));
  });
  return { child, url, exited, output: () => output };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function untilFinished(url: string, id: number): Promise<Consolidation> {
  for (let i = 0; i < 600; i++) {
    const consolidation = (await (await fetch(`${url}/v1/memory/consolidations/${id}`)).json()) as Consolidation;
    if (consolidation.state !== "running") return consolidation;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`consolidation ${id} still running after 150 s`);
}

for (const crashAt of ["train-step:consolidate@3", "store:create-version"]) {
  test(`SIGKILL at ${crashAt} during a consolidation: restart resumes it, the store stays consistent`, async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), "seal-serve-crash-"));
    try {
      const first = await serve(data, crashAt);
      const [passage] = heldOutPassages(1);
      const added = await post(`${first.url}/v1/memory/documents`, {
        text: passage.context,
        title: passage.title,
        probes: passage.questions,
      });
      assert.equal(added.status, 201);
      const started = await post(`${first.url}/v1/memory/consolidate`, {});
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const id = (started.body as { consolidation: Consolidation }).consolidation.id;
      assert.equal(await first.exited, "SIGKILL", first.output());

      // What the kill left: the consolidation still running, no version, the document still pending.
      const store = openMemoryStore(path.join(data, "memory.sqlite"));
      try {
        assert.equal(store.runningConsolidation()?.id, id);
        assert.deepEqual(store.listVersions(), []);
        assert.deepEqual(store.countDocuments(), { pending: 1, consolidated: 0, forgotten: 0 });
      } finally {
        store.close();
      }

      const second = await serve(data, null);
      try {
        const finished = await untilFinished(second.url, id);
        assert.ok(["promoted", "rejected"].includes(finished.state), `${finished.state}: ${finished.error}`);
        const versions = (await (await fetch(`${second.url}/v1/memory/versions`)).json()) as {
          data: Array<{ id: number; status: string; adapterPath: string }>;
        };
        assert.equal(versions.data.length, 1, "the version is recorded exactly once");
        assert.equal(versions.data[0].id, finished.versionId);
        assert.ok(fs.existsSync(path.join(data, versions.data[0].adapterPath, "adapter_model.safetensors")));
        const leftovers = fs.readdirSync(path.join(data, "adapters")).filter((name) => name.startsWith("."));
        assert.deepEqual(leftovers, [], "no half-written adapter folder is left");
        const k = (finished.settings as { selfEdits: { k: number } }).selfEdits.k;
        const check = openMemoryStore(path.join(data, "memory.sqlite"));
        try {
          const selfEdits = [...check.selfEditsOf(id).values()];
          assert.deepEqual(
            selfEdits.map((edits) => edits.length),
            [k],
            "self-edits written once per document",
          );
          const state = finished.state === "promoted" ? "consolidated" : "pending";
          assert.equal(check.countDocuments()[state], 1);
        } finally {
          check.close();
        }
        const health = (await (await fetch(`${second.url}/health`)).json()) as { consolidating: boolean };
        assert.equal(health.consolidating, false);
      } finally {
        second.child.kill("SIGTERM");
        await second.exited;
      }
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  });
}
