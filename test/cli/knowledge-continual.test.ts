import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createTinyModel, sealResult } from "./cli-fixtures.js";
import { assertSameRun, killAndResume } from "./kill-resume.js";

const { root, model } = createTinyModel("seal-cli-continual-");
after(() => fs.rmSync(root, { recursive: true, force: true }));

const input = path.join(root, "passages.json");
fs.writeFileSync(
  input,
  JSON.stringify(
    ["Atlantis", "Mu", "Lemuria"].map((title) => ({
      title,
      context: `${title} is a lost land.`,
      questions: [{ question: `What is ${title}?`, answer: "a lost land" }],
    })),
  ),
);

describe("seal knowledge continual", () => {
  it("--help lists its options", () => {
    const result = sealResult(["knowledge", "continual", "--help"]);
    assert.equal(result.status, 0, result.stderr);
    for (const flag of ["--runs", "--sequence-length", "--seed", "--max-tokens", "--resume"]) {
      assert.ok(result.stdout.includes(flag), flag);
    }
  });

  const args = (out: string) => [
    ...["knowledge", "continual", "--model", model, "--data", input, "--out", out],
    ...["--runs", "1", "--sequence-length", "2", "--epochs", "1", "--rank", "2", "--alpha", "4"],
    ...["--max-tokens", "4", "--max-answer-tokens", "2"],
  ];
  const fullRun = path.join(root, "run");

  it("writes the matrix, the reference-format results and the heatmap", () => {
    const result = sealResult(args(fullRun));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /\| after edit \| p0 \| p1 \|/);
    assert.match(result.stdout, /\| 2 \| /);
    const reference = JSON.parse(fs.readFileSync(path.join(fullRun, "overall_results.json"), "utf8"));
    assert.equal(reference.mean_over_sequences.length, 3);
    assert.equal(reference.mean_over_sequences[1][1], 0);
    assert.ok(fs.readFileSync(path.join(fullRun, "forgetting.svg"), "utf8").startsWith("<svg"));
  });

  it("kill -9 between rows, mid-training, mid-adapter-write and after a merged step; --resume gives the same run", () => {
    const out = path.join(root, "killed");
    killAndResume(out, {
      args,
      crashes: ["record:run-0/base", "train-step:inner", "write:adapter_config.json", "record:run-0/step-0"],
    });
    assertSameRun(out, fullRun);
  });
});
