import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { tempDir } from "./fixtures.js";

const ATOMIC_FILE_MODULE = new URL("../../src/io/atomic-file.js", import.meta.url).href;
const CRASH_POINT_MODULE = new URL("../../src/io/crash-point.js", import.meta.url).href;

/** Runs `script` (an ES module) with SEAL_CRASH_AT set; returns its signal, exit status and output. */
function runWith(crashAt: string | undefined, script: string) {
  const env = { ...process.env };
  delete env.SEAL_CRASH_AT;
  if (crashAt !== undefined) env.SEAL_CRASH_AT = crashAt;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8" });
  return {
    signal: result.signal,
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    pid: result.pid,
  };
}

const PASS_FIVE_POINTS = `
  import { crashPoint } from ${JSON.stringify(CRASH_POINT_MODULE)};
  for (let i = 1; i <= 5; i++) {
    crashPoint("record", "key-" + i);
    process.stdout.write(i + "\\n");
  }
`;

describe("crash points (SEAL_CRASH_AT)", () => {
  it("do nothing when unset or when another point is named", () => {
    for (const value of [undefined, "", "write", "record:key-9"]) {
      const result = runWith(value, PASS_FIVE_POINTS);
      assert.equal(result.status, 0, `${value}: ${result.stderr}`);
      assert.equal(result.stdout, "1\n2\n3\n4\n5\n");
    }
  });

  it("kill the process with SIGKILL the n-th time the named point (or point:detail) is passed", () => {
    const cases: [string, string][] = [
      ["record", ""],
      ["record@3", "1\n2\n"],
      ["record:key-4", "1\n2\n3\n"],
    ];
    for (const [value, printed] of cases) {
      const result = runWith(value, PASS_FIVE_POINTS);
      assert.equal(result.signal, "SIGKILL", value);
      assert.equal(result.stdout, printed, value);
    }
  });

  it("a malformed value is an error naming the variable and the form", () => {
    const result = runWith("record@0", PASS_FIVE_POINTS);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /SEAL_CRASH_AT=record@0: expected <point>\[@<n>\] with n ≥ 1/);
  });

  it("an atomic write killed before its rename leaves the old file whole and the new one under its temp name", () => {
    const dir = tempDir("seal-crash-");
    const file = path.join(dir, "summary.json");
    fs.writeFileSync(file, "old");
    const result = runWith(
      "write:summary.json",
      `import { writeFileAtomic } from ${JSON.stringify(ATOMIC_FILE_MODULE)};
       writeFileAtomic(${JSON.stringify(file)}, "new");`,
    );
    assert.equal(result.signal, "SIGKILL");
    assert.equal(fs.readFileSync(file, "utf8"), "old");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["summary.json", `summary.json.tmp-${result.pid}`].sort());
  });

  it("a folder write killed before or after its rename leaves the old folder or the new one, whole; a rerun replaces it", () => {
    const dir = tempDir("seal-crash-");
    const model = path.join(dir, "model");
    fs.mkdirSync(model);
    fs.writeFileSync(path.join(model, "weights"), "old");
    const write = (content: string) =>
      `import fs from "node:fs";
       import { writeDirectoryAtomically } from ${JSON.stringify(ATOMIC_FILE_MODULE)};
       writeDirectoryAtomically(${JSON.stringify(model)}, (partial) => {
         fs.mkdirSync(partial);
         fs.writeFileSync(partial + "/weights", ${JSON.stringify(content)});
       });`;
    assert.equal(runWith("publish:model", write("new")).signal, "SIGKILL");
    assert.equal(fs.readFileSync(path.join(model, "weights"), "utf8"), "old");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["model", "model.partial"]);
    assert.equal(runWith("published:model", write("newer")).signal, "SIGKILL");
    assert.equal(fs.readFileSync(path.join(model, "weights"), "utf8"), "newer");
    assert.deepEqual(fs.readdirSync(dir), ["model"]);
    assert.equal(runWith(undefined, write("newest")).status, 0);
    assert.equal(fs.readFileSync(path.join(model, "weights"), "utf8"), "newest");
    assert.deepEqual(fs.readdirSync(dir), ["model"]);
  });
});
