/** The checks every command with --out runs before its work: the path's kind and whether it can be written. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { checkOutputFile, checkOutputFolder } from "../../src/io/output-path.js";
import { tempDir } from "./fixtures.js";
import { unwritableFolder } from "./unwritable-folder.js";

test("a new (nested) or existing writable folder passes, and nothing is left behind", () => {
  const root = tempDir("seal-output-path-");
  checkOutputFolder(path.join(root, "a", "b", "c"));
  checkOutputFolder(root);
  checkOutputFile(path.join(root, "new", "out.jsonl"));
  fs.writeFileSync(path.join(root, "old.jsonl"), "x");
  checkOutputFile(path.join(root, "old.jsonl"));
  assert.deepEqual(fs.readdirSync(root), ["old.jsonl"], "no output folder is created and no probe file stays");
});

test("an existing file as a folder, a path under a file, and a folder as a file are refused, naming the path", () => {
  const root = tempDir("seal-output-path-");
  const file = path.join(root, "file");
  fs.writeFileSync(file, "x");
  assert.throws(() => checkOutputFolder(file), { message: `--out ${file}: is a file, not a folder` });
  assert.throws(() => checkOutputFolder(path.join(file, "sub", "dir"), "run folder"), {
    message: `run folder ${path.join(file, "sub", "dir")}: cannot be created: ${file} is a file, not a folder`,
  });
  assert.throws(() => checkOutputFile(path.join(file, "out.jsonl")), {
    message: `--out ${path.join(file, "out.jsonl")}: ${file} is a file, not a folder`,
  });
  assert.throws(() => checkOutputFile(root), { message: `--out ${root}: is a folder, expected a file name` });
  const link = path.join(root, "dangling");
  fs.symlinkSync(path.join(root, "nowhere"), link);
  assert.throws(() => checkOutputFolder(path.join(link, "run")), /is a symbolic link to nothing/);
});

test("a folder that refuses new files is refused, naming it and the system's reason", (t) => {
  const unwritable = unwritableFolder();
  if ("skip" in unwritable) {
    t.skip(unwritable.skip);
    return;
  }
  const target = path.join(unwritable.dir, "seal-run");
  assert.throws(() => checkOutputFolder(target), {
    message: new RegExp(`^--out ${target}: cannot write into ${unwritable.dir} \\((EACCES|EPERM|EROFS)`),
  });
  assert.throws(() => checkOutputFile(path.join(unwritable.dir, "out.jsonl")), /cannot write into/);
});
