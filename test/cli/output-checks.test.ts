/**
 * Every command that writes to --out checks, before its work, that the path is of the right kind and can be
 * written, and says which path is wrong (issue 10, item 4: training or sampling used to run to the end and then
 * fail with a raw EEXIST/ENOTDIR/EACCES).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { unwritableFolder } from "../io/unwritable-folder.js";
import { createTinyModel, sealResult } from "./cli-fixtures.js";

const { root, model } = createTinyModel("seal-cli-output-checks-");
const FILE = path.join(root, "a-file");
fs.writeFileSync(FILE, "not a folder\n");
const DATA = path.join(root, "data.jsonl");
fs.writeFileSync(DATA, `${JSON.stringify({ text: "Paris is the capital of France." })}\n`);

function refused(args: string[], message: string): { stdout: string; stderr: string } {
  const result = sealResult(args);
  assert.equal(result.status, 1, `${args.join(" ")}: ${result.stderr}`);
  assert.equal(result.stderr, `seal: ${message}\n`);
  return result;
}

test("generate --out: a folder, a path under a file or an unwritable folder is refused before sampling", (t) => {
  const generate = ["generate", "--model", model, "--prompt", "Hi", "--max-new-tokens", "2"];
  refused([...generate, "--out", root], `--out ${root}: is a folder, expected a file name`);
  const underFile = path.join(FILE, "out.jsonl");
  refused([...generate, "--out", underFile], `--out ${underFile}: ${FILE} is a file, not a folder`);
  const unwritable = unwritableFolder();
  if ("skip" in unwritable) {
    t.skip(unwritable.skip);
    return;
  }
  const result = sealResult([...generate, "--out", path.join(unwritable.dir, "out.jsonl")]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`^seal: --out .*out\\.jsonl: cannot write into ${unwritable.dir} \\(E`));
});

test("train, model create and adapter merge refuse an --out that is a file, before loading or training", () => {
  const train = refused(
    ["train", "--model", model, "--data", DATA, "--out", FILE, "--epochs", "1"],
    `--out ${FILE}: is a file, not a folder`,
  );
  assert.doesNotMatch(train.stderr, /training/);
  const create = refused(
    ["model", "create", "--preset", "tiny-qwen2", "--out", path.join(FILE, "model")],
    `--out ${path.join(FILE, "model")}: cannot be created: ${FILE} is a file, not a folder`,
  );
  assert.equal(create.stdout, "", "nothing was created");
  // The adapter does not exist: the output is checked first.
  refused(
    ["adapter", "merge", "--model", model, "--adapter", path.join(root, "no-adapter"), "--out", FILE],
    `--out ${FILE}: is a file, not a folder`,
  );
});

test("every run-folder command checks --out first", () => {
  const runDir = path.join(FILE, "run");
  const commands = [
    ["knowledge", "evaluate", "--model", "M", "--self-edits", "S"],
    ["knowledge", "generate", "--model", "M", "--data", "D"],
    ["knowledge", "train", "--model", "M", "--data", "D"],
    ["knowledge", "cpt", "--model", "M", "--self-edits", "S"],
    ["knowledge", "continual", "--model", "M", "--data", "D"],
    ["arc", "self-edit", "--model", "M", "--challenges", "C"],
    ["arc", "ttt", "--model", "M", "--challenges", "C", "--self-edits", "S"],
    ["arc", "eval", "--model", "M", "--challenges", "C", "--solutions", "S"],
    ["arc", "rl", "--model", "M", "--self-edits", "S", "--eval", "E"],
    ["mini", "pretrain"],
    ["demo"],
    ["data", "squad"],
  ];
  for (const command of commands)
    refused([...command, "--out", runDir], `--out ${runDir}: cannot be created: ${FILE} is a file, not a folder`);
  refused(
    ["knowledge", "generate", "--model", "M", "--data", "D", "--resume", FILE],
    `--resume ${FILE}: is a file, not a folder`,
  );
});
