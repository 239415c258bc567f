import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  createRun,
  LOCK_FILE,
  openRun,
  RUN_FILE,
  type RunSpec,
  readRunInfo,
  resumeRun,
  writeSummary,
} from "../../src/seal/run-dir.js";
import { tempDir } from "../io/fixtures.js";

const RUN_DIR_MODULE = new URL("../../src/seal/run-dir.js", import.meta.url).href;

function spec(overrides: Partial<{ rank: number; judge: string; model: string }> = {}): RunSpec {
  return {
    command: "knowledge evaluate",
    config: { lora: { rank: overrides.rank ?? 32, alpha: 64 }, judge: { model: overrides.judge ?? "none" }, seed: 1 },
    fingerprints: { model: { sha256: overrides.model ?? "aaa", files: [] }, data: "bbb" },
  };
}

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  assert.equal(child.status, 0);
  return child.pid;
}

describe("run directories", () => {
  it("creates run.json with config, fingerprints and environment, and refuses a non-empty folder", () => {
    const dir = path.join(tempDir("seal-run-"), "run");
    const run = createRun(dir, spec());
    const info = readRunInfo(dir);
    assert.equal(info.command, "knowledge evaluate");
    assert.deepEqual(info.config, { judge: { model: "none" }, lora: { alpha: 64, rank: 32 }, seed: 1 });
    assert.deepEqual(info.fingerprints.data, "bbb");
    assert.equal(info.sealVersion, JSON.parse(fs.readFileSync("package.json", "utf8")).version);
    assert.equal(info.nodeVersion, process.version);
    assert.ok(info.host.cpuCount > 0 && info.host.cpuModel.length > 0);
    assert.ok(!Number.isNaN(Date.parse(info.startedAt)));
    assert.ok(fs.existsSync(path.join(dir, LOCK_FILE)));
    run.release();
    assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)));
    assert.throws(() => createRun(dir, spec()), /not empty: it holds a run \(run\.json\); resume it/);

    const other = tempDir("seal-run-");
    fs.writeFileSync(path.join(other, "notes.txt"), "x");
    assert.throws(() => createRun(other, spec()), /not empty: it holds 1 file\(s\) \(notes\.txt\)/);
    assert.throws(() => resumeRun(other, spec()), /not a run folder \(no run\.json/);
  });

  it("resumes with the same spec, and names every differing field otherwise", () => {
    const dir = tempDir("seal-run-");
    createRun(dir, spec()).release();

    assert.throws(
      () => resumeRun(dir, spec({ rank: 16, model: "ccc" })),
      (error: Error) =>
        /2 field\(s\) differ/.test(error.message) &&
        /config\.lora\.rank: run has 32, now 16/.test(error.message) &&
        /fingerprints\.model: run has "aaa", now "ccc"/.test(error.message),
    );
    assert.throws(() => resumeRun(dir, { ...spec(), command: "knowledge train" }), /command: run has/);
    assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), "a refused resume releases the lock");

    const same = resumeRun(dir, spec());
    assert.ok(same.resumed);
    same.release();
    assert.throws(() => resumeRun(dir, spec({ judge: "gpt" })), /config\.judge\.model/);
    const allowed = resumeRun(dir, spec({ judge: "gpt" }), { allowDifferent: ["config.judge"] });
    allowed.release();
    const info = readRunInfo(dir);
    assert.equal(info.resumes.length, 2);
    assert.deepEqual(info.resumes[1].changed, [{ field: "config.judge.model", was: "none", now: "gpt" }]);
    assert.deepEqual(info.config, { judge: { model: "none" }, lora: { alpha: 64, rank: 32 }, seed: 1 });
    openRun(dir, spec(), { resume: true }).release();
  });

  it("refuses a run folder that is a file or lies under one, naming the path (not a raw EEXIST/ENOTDIR)", () => {
    const file = path.join(tempDir("seal-run-"), "file");
    fs.writeFileSync(file, "x");
    assert.throws(() => createRun(file, spec()), { message: `run folder ${file}: is a file, not a folder` });
    assert.throws(() => createRun(path.join(file, "run"), spec()), {
      message: `run folder ${path.join(file, "run")}: cannot be created: ${file} is a file, not a folder`,
    });
  });

  it("writes the summary atomically", () => {
    const dir = tempDir("seal-run-");
    writeSummary(dir, { markdown: "# Summary", json: { accuracy: 0.5 } });
    assert.equal(fs.readFileSync(path.join(dir, "summary.md"), "utf8"), "# Summary\n");
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8")), { accuracy: 0.5 });
    assert.deepEqual(fs.readdirSync(dir).sort(), ["summary.json", "summary.md"]);
  });

  it("locks out a second writer and takes over a lock whose process is dead", () => {
    const dir = tempDir("seal-run-");
    const run = createRun(dir, spec());
    assert.throws(() => resumeRun(dir, spec()), /already holds the run's lock/);
    run.release();

    const pid = deadPid();
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid, hostname: run.info.host.hostname }));
    const resumed = resumeRun(dir, spec());
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")).pid, process.pid);
    resumed.release();

    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 1, hostname: "elsewhere" }));
    assert.throws(() => resumeRun(dir, spec()), /locked by pid 1 on host elsewhere/);
  });
});

describe("what kill -9 leaves in a run folder", () => {
  it("a folder holding only a dead creator's lock and run.json temp file starts afresh, with or without resume", () => {
    for (const open of [createRun, resumeRun]) {
      const dir = tempDir("seal-run-");
      const pid = deadPid();
      fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid, hostname: os.hostname() }));
      fs.writeFileSync(path.join(dir, `${RUN_FILE}.tmp-${pid}`), "{");
      const run = open(dir, spec());
      assert.equal(run.resumed, false);
      assert.deepEqual(fs.readdirSync(dir).sort(), [RUN_FILE, LOCK_FILE].sort());
      run.release();
    }
    // a live holder is still refused, and anything else in the folder still makes it not empty
    const live = tempDir("seal-run-");
    fs.writeFileSync(path.join(live, LOCK_FILE), JSON.stringify({ pid: process.ppid, hostname: os.hostname() }));
    assert.throws(() => createRun(live, spec()), /in use by pid/);
    fs.writeFileSync(path.join(live, "notes.txt"), "x");
    assert.throws(() => resumeRun(live, spec()), /not a run folder/);
  });

  it("resuming removes temp files of dead writers anywhere in the run, and nothing else", () => {
    const dir = tempDir("seal-run-");
    createRun(dir, spec()).release();
    const pid = deadPid();
    fs.mkdirSync(path.join(dir, "adapters", "0"), { recursive: true });
    const stale = [`summary.json.tmp-${pid}`, `adapters/0/adapter_model.safetensors.tmp-${pid}`];
    const kept = [`notes.tmp-${process.ppid}`, "adapters/0/adapter_config.json", "data.tmp"];
    for (const name of [...stale, ...kept]) fs.writeFileSync(path.join(dir, name), "x");
    resumeRun(dir, spec()).release();
    for (const name of stale) assert.ok(!fs.existsSync(path.join(dir, name)), name);
    for (const name of kept) assert.ok(fs.existsSync(path.join(dir, name)), name);
  });
});

describe("a writer killed with SIGKILL", () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("leaves a run that resumes with every acknowledged record intact", async () => {
    const dir = path.join(tempDir("seal-run-kill-"), "run");
    const script = `
      import { createRun } from ${JSON.stringify(RUN_DIR_MODULE)};
      const spec = JSON.parse(process.env.SEAL_SPEC);
      const run = createRun(process.env.SEAL_DIR, spec);
      const log = run.openRecords("records");
      const payload = "x".repeat(50000);
      for (let i = 0; ; i++) {
        log.appendRecord("item-" + i, { i, payload });
        process.stdout.write(i + "\\n");
      }
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, SEAL_DIR: dir, SEAL_SPEC: JSON.stringify(spec()) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let acknowledged = -1;
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    let checkedLock = false;
    await new Promise<void>((resolve, reject) => {
      let buffered = "";
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        if (lines.length > 0) acknowledged = Number(lines[lines.length - 1]);
        if (!checkedLock && acknowledged >= 0) {
          checkedLock = true;
          try {
            assert.throws(() => resumeRun(dir, spec()), new RegExp(`in use by pid ${child.pid}`));
          } catch (error) {
            reject(error);
          }
        }
        if (acknowledged >= 100 && child.kill("SIGKILL")) resolve();
      });
      child.on("exit", () => reject(new Error(`child exited early: ${stderr}`)));
    });
    assert.equal(await exited, "SIGKILL");

    const run = resumeRun(dir, spec());
    const log = run.openRecords<{ i: number; payload: string }>("records");
    assert.ok(log.size >= acknowledged + 1, `${log.size} records, ${acknowledged + 1} acknowledged`);
    [...log.keys()].forEach((key, index) => {
      assert.equal(key, `item-${index}`);
      const record = log.get(key)!;
      assert.equal(record.i, index);
      assert.equal(record.payload.length, 50000);
    });
    log.close();
    run.release();
    assert.ok(fs.existsSync(path.join(dir, RUN_FILE)));
  });
});
