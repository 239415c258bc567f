import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { maxThreads, resolveThreadSettings } from "../../src/native/threads.js";
import { createTinyModel } from "../cli/cli-fixtures.js";
import { REPO_ROOT } from "../io/fixtures.js";

test("thread settings: SEAL_THREADS, else every logical CPU; empty values count as unset", () => {
  assert.equal(resolveThreadSettings({}, 2).threads, 2);
  assert.equal(resolveThreadSettings({ SEAL_THREADS: "1" }, 2).threads, 1);
  assert.equal(resolveThreadSettings({ SEAL_THREADS: " 8 " }, 2).threads, 8);
  assert.equal(resolveThreadSettings({ SEAL_THREADS: "", OMP_NUM_THREADS: "" }, 2).threads, 2);
  assert.equal(resolveThreadSettings({ OMP_NUM_THREADS: "2,1", OPENBLAS_NUM_THREADS: "2" }, 2).threads, 2);
  assert.equal(maxThreads(2), 8);
  assert.equal(maxThreads(0), 4);
});

test("thread settings: zero, negative, non-numeric and huge counts are refused with the variable and range", () => {
  for (const value of ["0", "-3", "abc", "1.5", "65536", "1e3", "9"]) {
    assert.throws(
      () => resolveThreadSettings({ SEAL_THREADS: value }, 2),
      (error: Error) =>
        error.message.includes(`SEAL_THREADS=${JSON.stringify(value)}`) && error.message.includes("from 1 to 8"),
      value,
    );
  }
  assert.throws(() => resolveThreadSettings({ OMP_NUM_THREADS: "65536" }, 2), /OMP_NUM_THREADS="65536"/);
  assert.throws(() => resolveThreadSettings({ OMP_NUM_THREADS: "2,65536" }, 2), /OMP_NUM_THREADS="2,65536"/);
  assert.throws(() => resolveThreadSettings({ OPENBLAS_NUM_THREADS: "0" }, 2), /OPENBLAS_NUM_THREADS="0"/);
});

test("seal generate with SEAL_THREADS or OMP_NUM_THREADS = 65536 exits 1 with a message instead of crashing", () => {
  const { model } = createTinyModel("seal-threads-");
  for (const variable of ["SEAL_THREADS", "OMP_NUM_THREADS"]) {
    const result = spawnSync(
      process.execPath,
      [path.join(REPO_ROOT, "bin/seal.js"), "generate", "--model", model, "--prompt", "Hi", "--max-new-tokens", "2"],
      { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, SEAL_DEBUG: "", [variable]: "65536" } },
    );
    assert.equal(result.signal, null, `${variable}: killed by ${result.signal}`);
    assert.equal(result.status, 1, `${variable}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^seal: ${variable}="65536" is not a usable thread count`));
  }
});
