/**
 * `--grader judge` from the command line against a real HTTP judge on 127.0.0.1: the judge flags, the exit status
 * and console of a run whose judge fails, refuses or hangs, and `seal knowledge regrade`. The child process talks to
 * the fake judge in this process, so it is spawned asynchronously.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type FakeJudge, startFakeJudge } from "../domains/knowledge/fake-judge.js";
import { REPO_ROOT } from "../io/fixtures.js";
import { createTinyModel, LOST_LANDS, sealResult } from "./cli-fixtures.js";

const { root, model } = createTinyModel("seal-cli-judge-");
let judge: FakeJudge;
before(async () => {
  judge = await startFakeJudge();
});
after(async () => {
  await judge.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const input = path.join(root, "passages.json");
fs.writeFileSync(input, JSON.stringify(LOST_LANDS));

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `seal …` without blocking this process (the fake judge must keep answering). */
function sealAsync(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/seal.js", ...args], {
      cwd: REPO_ROOT,
      env: { OMP_WAIT_POLICY: "passive", ...process.env, SEAL_DEBUG: "", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

let runs = 0;
/** A no-update evaluation (3 questions: 6 verdicts, the adapted ones copied from the baseline) graded by the judge. */
function evaluate(extra: string[], out = path.join(root, `run-${runs++}`)): Promise<Result & { out: string }> {
  return sealAsync([
    "knowledge",
    "evaluate",
    "--model",
    model,
    "--self-edits",
    input,
    "--out",
    out,
    "--no-update",
    "--max-answer-tokens",
    "2",
    "--grader",
    "judge",
    "--judge-model",
    "judge-m",
    "--judge-base-url",
    judge.url,
    "--judge-retries",
    "0",
    ...extra,
  ]).then((result) => ({ ...result, out }));
}

describe("seal knowledge … --grader judge", () => {
  it("--help lists the judge flags; regrade is a knowledge command", () => {
    for (const command of ["evaluate", "train", "cpt", "continual"]) {
      const help = sealResult(["knowledge", command, "--help"]);
      for (const flag of ["--judge-timeout", "--judge-retries", "--max-judge-failures"]) {
        assert.ok(help.stdout.includes(flag), `${command} ${flag}`);
      }
    }
    const regrade = sealResult(["knowledge", "regrade", "--help"]);
    assert.equal(regrade.status, 0, regrade.stderr);
    assert.match(regrade.stdout, /Usage: seal knowledge regrade \[options\] <run>/);
    assert.match(regrade.stdout, /--max-judge-failures/);
  });

  it("bad judge flag values are refused, naming what is expected", () => {
    for (const [flag, value, expected] of [
      ["--max-judge-failures", "abc", /a count .*a percentage/],
      ["--max-judge-failures", "150%", /a count .*a percentage/],
      ["--judge-timeout", "0", /positive number/],
      ["--judge-timeout", "1e9", /at most 86400 seconds/],
      ["--judge-retries", "99", /integer from 0 to 20/],
    ] as const) {
      const result = sealResult(["knowledge", "regrade", root, flag, value]);
      assert.equal(result.status, 1, `${flag} ${value}`);
      assert.match(result.stderr, expected, result.stderr);
    }
  });

  it("a judge that is down: exit 1 with the failed count and the way out; regrade finishes the run", async () => {
    judge.mode = "500";
    const failed = await evaluate([]);
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(failed.stderr, /seal: 6 of 6 judge verdicts failed \(100\.00%\), more than --max-judge-failures 5%/);
    assert.match(failed.stderr, /HTTP 500: server is down/);
    assert.ok(failed.stderr.includes(`seal knowledge regrade ${failed.out}`), failed.stderr);
    const written = JSON.parse(fs.readFileSync(path.join(failed.out, "summary.json"), "utf8"));
    assert.equal(written.judgeVerdicts.failed, 6);

    judge.mode = "yes";
    const calls = judge.calls;
    const regraded = await sealAsync(["knowledge", "regrade", failed.out, "--judge-retries", "0"]);
    assert.equal(regraded.status, 0, regraded.stderr);
    assert.match(regraded.stderr, /re-graded 6 failed judge verdict\(s\): 6 graded now, 0 failed again/);
    assert.match(regraded.stdout, /judge: 0 of 6 judge verdicts failed \(0\.00%\)/);
    assert.equal(judge.calls - calls, 3, "one call per question: the adapted answers are the baseline's");
    const summary = JSON.parse(fs.readFileSync(path.join(failed.out, "summary.json"), "utf8"));
    assert.deepEqual(summary.judgeVerdicts, { total: 6, failed: 0 });
    assert.equal(summary.micro.baseline.mean, 1);
  });

  it("a 401 stops the run after one call, naming the URL, the model and the status", async () => {
    judge.mode = "401";
    const calls = judge.calls;
    const result = await evaluate(["--judge-retries", "3"]);
    assert.equal(result.status, 1);
    assert.ok(result.stderr.includes(`HTTP 401 from ${judge.url}/chat/completions (model judge-m)`), result.stderr);
    assert.match(result.stderr, /check the API key \(OPENAI_API_KEY\)/);
    assert.equal(judge.calls - calls, 1);
  });

  it("--judge-timeout cuts a hanging judge short; the count is printed when the failures are allowed", async () => {
    judge.mode = "hang";
    const calls = judge.calls;
    const result = await evaluate(["--judge-timeout", "0.2", "--max-judge-failures", "100%"]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /judge: 6 of 6 judge verdicts failed \(100\.00%\): baseline 3, adapted 3; left out/);
    assert.equal(judge.calls - calls, 3);
    const records = fs.readFileSync(path.join(result.out, "records.jsonl"), "utf8");
    assert.match(records, /timed out after 200 ms/);
  });

  it("a judge that answers neither yes nor no: failed verdicts, counted on the console", async () => {
    judge.mode = "banana";
    const result = await evaluate(["--max-judge-failures", "6"]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /judge: 6 of 6 judge verdicts failed/);
    judge.mode = "yes";
    const fine = await evaluate([]);
    assert.equal(fine.status, 0, fine.stderr);
    assert.match(fine.stdout, /judge: 0 of 6 judge verdicts failed \(0\.00%\): baseline 0, adapted 0\n/);
  });

  it("regrade refuses a run graded locally, and a folder that is not a run", async () => {
    const local = path.join(root, "local");
    const made = sealResult([
      "knowledge",
      "evaluate",
      "--model",
      model,
      "--self-edits",
      input,
      "--out",
      local,
      "--no-update",
      "--max-answer-tokens",
      "2",
    ]);
    assert.equal(made.status, 0, made.stderr);
    assert.doesNotMatch(made.stdout, /judge:/);
    const refused = sealResult(["knowledge", "regrade", local]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /graded locally .*no judge verdicts to regrade/);
    assert.match(sealResult(["knowledge", "regrade", path.join(root, "nowhere")]).stderr, /not a run folder/);
  });
});
